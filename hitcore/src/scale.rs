//! The scale generator: a synthetic federation of any size, shaped like a
//! real one, for benchmarks and load tests. A root with its default
//! subgroups, regions, clubs with theirs (boards, members groups, now and
//! then contacts or a members subgroup); most people in the clubs' members
//! groups, and some with two or three roles: board members and trainers
//! who are members too, passive members who used to be active, members of
//! two clubs, memberships that ended years ago.
//!
//! [`Plan::new`] lays out the group tree from the organisation definition,
//! through the same pure planning functions the stores are fed with
//! ([`crate::group::plan_create`]); [`Plan::chunks`] then streams people
//! and their roles, with the derived person state of
//! [`crate::person::primary_group_after`] and
//! [`crate::person::contact_data_visible`]. Both are deterministic: the
//! same organisation, sizes, seed and day give the same data. [`load`]
//! writes a plan through [`BulkLoad`] into an empty database.
//!
//! The demo data of the first start is [`crate::seed`]; this module shares
//! its lists of names and towns, and nothing else.

use std::collections::HashMap;
use std::sync::mpsc;

use chrono::{DateTime, Days, NaiveDate, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tracing::{info, instrument};

use crate::ability::{SetPassword, system};
use crate::group::{self, Group, GroupPatch, GroupRuleError, NewGroup, PlanParent};
use crate::id::{GroupId, PersonId, RoleId};
use crate::org::{GroupType, Organisation, RoleKind, RoleType};
use crate::permission::Permission;
use crate::person::{self, Person};
use crate::role::Role;
use crate::seed::{
    BERN, BOYS, GIRLS, LAST_NAMES, MAIL_DOMAINS, MEN, STREETS, TOWNS_FEDERATION, TOWNS_LUZERN,
    TOWNS_SCHAFFHAUSEN, TOWNS_WINTERTHUR, Town, WOMEN, ascii_fold,
};
use crate::store::{BulkLoad, LoadBulk, StoreError};

/// The administrator is always the first person.
pub const ADMIN_ID: PersonId = PersonId(1);

/// People written per [`BulkLoad::bulk_insert`] call.
const CHUNK_SIZE: usize = 20_000;

/// What to generate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScaleOptions {
    /// People in total, the administrator included.
    pub people: usize,
    /// Groups in total, default subgroups included. The plan meets it
    /// exactly whenever the organisation has a group type that may be
    /// added anywhere in a club (the demo federation does).
    pub groups: usize,
    /// The seed of the random choices.
    pub seed: u64,
    /// The email of the administrator ([`ADMIN_ID`]), who holds the root
    /// type's admin role.
    pub admin_email: String,
}

/// Why no federation was generated.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScaleError {
    /// The database holds data; the generator only fills an empty one.
    #[error(
        "the database is not empty (it holds {groups} groups and {people} people); the scale \
         generator only fills an empty database: drop it, or name a new one"
    )]
    NotEmpty { groups: usize, people: u64 },
    /// Fewer groups than the smallest federation of this organisation.
    #[error(
        "{groups} groups are too few: the smallest federation of {org} (root, one region, one \
         club, with their default subgroups) has {min}"
    )]
    TooFewGroups {
        groups: usize,
        min: usize,
        org: String,
    },
    /// The root group type has no role with the `admin` permission.
    #[error("the root group type {0} has no role with the admin permission")]
    NoAdminRole(String),
    /// The organisation refused a planned group.
    #[error("the organisation refuses a planned group: {0}")]
    Plan(#[from] GroupRuleError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// How far [`load`] got; reported after each step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Progress {
    /// The groups are written.
    Groups(usize),
    /// `written` of `total` people are written, with their roles.
    People { written: usize, total: usize },
    /// Everything is written; the statistics are being refreshed.
    Finishing,
}

/// What [`load`] wrote.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ScaleReport {
    pub groups: usize,
    pub people: usize,
    /// Roles of every state: active, ended, passive.
    pub roles: usize,
}

/// People and their roles, as [`Plan::chunks`] yields them.
#[derive(Clone, Debug, PartialEq)]
pub struct Chunk {
    pub people: Vec<Person>,
    pub roles: Vec<Role>,
}

/// Writes a generated federation into an empty database.
///
/// The groups go first, then people with their roles in chunks (generated
/// on a second thread while the store writes), then the administrator's
/// password hash when one is given, then [`BulkLoad::bulk_finish`].
///
/// # Errors
/// [`ScaleError::NotEmpty`], before anything is written, when the
/// database holds groups or people; what [`Plan::new`] refuses; any error
/// of the store, which leaves what was written so far.
#[instrument(skip_all, fields(scale.people = options.people, scale.groups = options.groups))]
pub fn load(
    store: &dyn BulkLoad,
    org: &Organisation,
    options: &ScaleOptions,
    admin_password_hash: Option<&str>,
    now: DateTime<Utc>,
    progress: &mut dyn FnMut(Progress),
) -> Result<ScaleReport, ScaleError> {
    refuse_non_empty(store)?;
    let plan = Plan::new(org, options, now)?;
    let permit = system(LoadBulk);
    store.bulk_insert(&permit, &plan.groups, &[], &[])?;
    let mut report = ScaleReport {
        groups: plan.groups.len(),
        ..ScaleReport::default()
    };
    progress(Progress::Groups(report.groups));

    std::thread::scope(|s| -> Result<(), ScaleError> {
        let (send, receive) = mpsc::sync_channel::<Chunk>(2);
        let plan = &plan;
        s.spawn(move || {
            for chunk in plan.chunks(org, CHUNK_SIZE) {
                if send.send(chunk).is_err() {
                    break; // the writer failed and stopped listening
                }
            }
        });
        for chunk in receive {
            store.bulk_insert(&permit, &[], &chunk.people, &chunk.roles)?;
            report.people += chunk.people.len();
            report.roles += chunk.roles.len();
            progress(Progress::People {
                written: report.people,
                total: options.people,
            });
        }
        Ok(())
    })?;

    if let Some(hash) = admin_password_hash.filter(|_| report.people > 0) {
        store.set_password_hash(&system(SetPassword(ADMIN_ID)), hash, now)?;
    }
    progress(Progress::Finishing);
    store.bulk_finish(&permit)?;
    info!(
        scale.groups = report.groups,
        scale.people = report.people,
        scale.roles = report.roles,
        "Generated a federation of {} groups, {} people and {} roles",
        report.groups,
        report.people,
        report.roles
    );
    Ok(report)
}

fn refuse_non_empty(store: &dyn BulkLoad) -> Result<(), ScaleError> {
    let groups = store.all_groups()?.len();
    let people = store.person_count()?;
    if groups > 0 || people > 0 {
        return Err(ScaleError::NotEmpty { groups, people });
    }
    Ok(())
}

// ------------------------------------------------------------------ the plan

/// The group tree of a generated federation and who goes where in it.
#[derive(Clone, Debug)]
pub struct Plan {
    /// Every group, parents before children, with ids from 1 in order.
    pub groups: Vec<Group>,
    /// Who the generated people are, in the order they are generated.
    placements: Vec<Placement>,
    /// The clubs, for second and former memberships.
    clubs: Vec<Club>,
    admin_email: String,
    people: usize,
    seed: u64,
    now: DateTime<Utc>,
}

/// A number of people who each get one role type in one group first.
#[derive(Clone, Debug)]
struct Placement {
    /// Index into [`Plan::groups`].
    group: usize,
    role_type: String,
    part: Part,
    count: usize,
    /// The club the group belongs to, if any (index into [`Plan::clubs`]).
    club: Option<usize>,
    towns: Towns,
}

/// Where the people of a placement live: mostly in the home town, the
/// others around it.
#[derive(Clone, Copy, Debug)]
struct Towns {
    home: Town,
    around: &'static [Town],
}

/// A club: its members group (if it has one) for extra memberships.
#[derive(Clone, Debug)]
struct Club {
    /// The main members group and its ordinary member role type.
    members: Option<(usize, String)>,
}

/// What a role type stands for in a generated federation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Part {
    /// Writes somewhere: club leaders, presidents, trainers; one or a few.
    Lead,
    /// Reads or keeps the books: treasurers, board members; a few.
    Officer,
    /// An ordinary member without permissions; most people.
    Member,
    /// A member invisible from above: children and youths.
    Junior,
    Passive,
    External,
}

fn part_of(rt: &RoleType) -> Option<Part> {
    let writes = rt
        .permissions
        .iter()
        .any(|p| p.is_write() || *p == Permission::Admin);
    match rt.kind {
        RoleKind::Restricted => None,
        RoleKind::Passive => Some(Part::Passive),
        RoleKind::External => Some(Part::External),
        RoleKind::Member if writes => Some(Part::Lead),
        RoleKind::Member if !rt.permissions.is_empty() => Some(Part::Officer),
        RoleKind::Member if rt.is_visible_from_above => Some(Part::Member),
        RoleKind::Member => Some(Part::Junior),
    }
}

/// Where in the federation a group sits, which decides how many people it
/// gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Level {
    Root,
    Region,
    /// A group added as an extra (a committee, a working group).
    Extra,
}

impl Plan {
    /// Lays out the groups and decides who goes where.
    ///
    /// # Errors
    /// [`ScaleError::TooFewGroups`] when `options.groups` is below the
    /// smallest federation, [`ScaleError::NoAdminRole`] when the root type
    /// has no admin role, [`ScaleError::Plan`] when the organisation
    /// refuses a group (it should not: only allowed types are planned).
    pub fn new(
        org: &Organisation,
        options: &ScaleOptions,
        now: DateTime<Utc>,
    ) -> Result<Plan, ScaleError> {
        let mut rng = StdRng::seed_from_u64(options.seed);
        let mut layout = Layout::new(org, options.groups, now)?;
        layout.build(&mut rng)?;
        let mut plan = Plan {
            groups: layout.tree.groups,
            placements: Vec::new(),
            clubs: Vec::new(),
            admin_email: options.admin_email.clone(),
            people: options.people,
            seed: options.seed,
            now,
        };
        plan.place_people(org, &layout.spots, &mut rng)?;
        Ok(plan)
    }

    /// The people in chunks of `size` (the last one smaller), each with
    /// their roles; exactly [`ScaleOptions::people`] in total.
    pub fn chunks<'p>(&'p self, org: &'p Organisation, size: usize) -> Chunks<'p> {
        Chunks {
            people: People::new(self, org),
            size: size.max(1),
        }
    }

    fn group_id(&self, index: usize) -> GroupId {
        self.groups[index].id
    }

    /// Fills `placements`: the administrator, the officers and members of
    /// the root and the regions, then the clubs, which get what is left in
    /// proportion to a skewed weight (the first club is the largest).
    fn place_people(
        &mut self,
        org: &Organisation,
        spots: &[Spot],
        rng: &mut StdRng,
    ) -> Result<(), ScaleError> {
        let root = org.root_type();
        let admin_type = org
            .role_types_of(&root.key)
            .find(|r| r.has(Permission::Admin))
            .ok_or_else(|| ScaleError::NoAdminRole(root.key.clone()))?;
        let admin = Placement {
            group: 0,
            role_type: admin_type.key.clone(),
            part: Part::Lead,
            count: 1,
            club: None,
            towns: Towns {
                home: BERN,
                around: TOWNS_FEDERATION,
            },
        };
        self.placements.push(admin);

        let p = self.people;
        let mut fixed = 1;
        for spot in spots.iter().filter(|s| s.club.is_none()) {
            let level = spot.level;
            let group_type = self.groups[spot.group].group_type.clone();
            for rt in org.role_types_of(&group_type) {
                let Some(part) = part_of(rt) else { continue };
                let count = match (part, level) {
                    _ if rt.has(Permission::Admin) => 0,
                    (Part::Lead, _) => 1,
                    (Part::Officer, _) => 2,
                    (Part::Member, Level::Root) => p / 250,
                    (Part::Member, Level::Region) => p / 500,
                    (Part::Member, Level::Extra) => 4,
                    (Part::Junior, _) => 0,
                    (Part::Passive, Level::Extra) => 0,
                    (Part::Passive, _) => p / 2000,
                    (Part::External, _) => 3,
                };
                fixed += count;
                self.push(spot, rt, part, count, None);
            }
        }
        self.place_clubs(org, spots, p.saturating_sub(fixed), rng);
        Ok(())
    }

    fn push(&mut self, spot: &Spot, rt: &RoleType, part: Part, count: usize, club: Option<usize>) {
        if count > 0 {
            self.placements.push(Placement {
                group: spot.group,
                role_type: rt.key.clone(),
                part,
                count,
                club,
                towns: spot.towns,
            });
        }
    }

    fn place_clubs(&mut self, org: &Organisation, spots: &[Spot], people: usize, rng: &mut StdRng) {
        let club_count = spots
            .iter()
            .filter_map(|s| s.club)
            .max()
            .map_or(0, |c| c + 1);
        if club_count == 0 {
            return;
        }
        let sizes = split(people, &club_weights(club_count, rng));
        self.clubs = vec![Club { members: None }; club_count];
        for (club, &size) in sizes.iter().enumerate() {
            let own: Vec<&Spot> = spots.iter().filter(|s| s.club == Some(club)).collect();
            self.place_club(org, club, &own, size, rng);
        }
    }

    /// The people of one club: officers in every group, contacts in the
    /// contact groups, the rest split over the members groups (most in the
    /// main ones) as members, juniors and passive members.
    fn place_club(
        &mut self,
        org: &Organisation,
        club: usize,
        spots: &[&Spot],
        size: usize,
        rng: &mut StdRng,
    ) {
        let mut left = size;
        for spot in spots {
            let is_members = spot.weight > 0.0;
            let group_type = self.groups[spot.group].group_type.clone();
            for rt in org.role_types_of(&group_type) {
                let count = match part_of(rt) {
                    Some(Part::Lead) if is_members => 1 + size / 300,
                    Some(Part::Lead) => 1,
                    Some(Part::Officer) if is_members => 2 + size / 600,
                    Some(Part::Officer) => 2,
                    Some(Part::External) => rng.gen_range(3..=12),
                    _ => continue,
                }
                .min(left);
                left -= count;
                let part = part_of(rt).unwrap_or(Part::Officer);
                self.push(spot, rt, part, count, Some(club));
            }
        }
        let weights: Vec<f64> = spots.iter().map(|s| s.weight).collect();
        if weights.iter().all(|w| *w <= 0.0) {
            return;
        }
        for (spot, count) in spots.iter().zip(split(left, &weights)) {
            self.place_members(org, club, spot, count);
        }
    }

    /// `count` people in one members group: 65% members, 25% juniors, 10%
    /// passive, over the parts its type has.
    fn place_members(&mut self, org: &Organisation, club: usize, spot: &Spot, count: usize) {
        let group_type = self.groups[spot.group].group_type.clone();
        let types: Vec<(&RoleType, Part)> = org
            .role_types_of(&group_type)
            .filter_map(|rt| part_of(rt).map(|p| (rt, p)))
            .filter(|(_, p)| matches!(p, Part::Member | Part::Junior | Part::Passive))
            .collect();
        let share = |p: Part| match p {
            Part::Member => 0.65,
            Part::Junior => 0.25,
            _ => 0.10,
        };
        let weights: Vec<f64> = types
            .iter()
            .map(|(_, p)| share(*p) / types.iter().filter(|(_, q)| q == p).count() as f64)
            .collect();
        for ((rt, part), n) in types.iter().zip(split(count, &weights)) {
            self.push(spot, rt, *part, n, Some(club));
        }
        let member = types.iter().find(|(_, p)| *p == Part::Member);
        if let (None, Some((rt, _))) = (&self.clubs[club].members, member) {
            self.clubs[club].members = Some((spot.group, rt.key.clone()));
        }
    }
}

/// One weight per club, skewed like real club sizes (log-normal): a few
/// large clubs, many small ones. The first club is made the largest, with
/// at least 2% of everyone, so that a benchmark finds a long list there.
fn club_weights(count: usize, rng: &mut StdRng) -> Vec<f64> {
    let mut weights: Vec<f64> = (0..count)
        .map(|_| {
            // Box-Muller: a standard normal value from two uniform ones.
            let u1: f64 = rng.gen_range(f64::EPSILON..1.0);
            let u2: f64 = rng.r#gen();
            let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
            (0.8 * z).exp()
        })
        .collect();
    let others: f64 = weights.iter().skip(1).sum();
    let largest = weights.iter().copied().fold(0.0, f64::max);
    if let Some(first) = weights.first_mut() {
        *first = largest.max(others * 0.02);
    }
    weights
}

/// `total` split in proportion to `weights` by the largest remainder, so
/// that the parts add up to `total` exactly. Non-positive weights get
/// nothing; with no positive weight everything goes to nobody.
fn split(total: usize, weights: &[f64]) -> Vec<usize> {
    let sum: f64 = weights.iter().filter(|w| **w > 0.0).sum();
    if sum <= 0.0 {
        return vec![0; weights.len()];
    }
    let exact: Vec<f64> = weights
        .iter()
        .map(|w| w.max(0.0) / sum * total as f64)
        .collect();
    let mut parts: Vec<usize> = exact.iter().map(|e| e.floor() as usize).collect();
    let mut missing = total.saturating_sub(parts.iter().sum());
    let mut order: Vec<usize> = (0..weights.len()).filter(|&i| weights[i] > 0.0).collect();
    order.sort_by(|&a, &b| {
        let (ra, rb) = (exact[a] - exact[a].floor(), exact[b] - exact[b].floor());
        rb.total_cmp(&ra).then(a.cmp(&b))
    });
    for &i in order.iter().cycle() {
        if missing == 0 {
            break;
        }
        parts[i] += 1;
        missing -= 1;
    }
    parts
}

// ---------------------------------------------------------------- the groups

/// A group people are placed in, with what decides how many.
#[derive(Clone, Debug)]
struct Spot {
    group: usize,
    level: Level,
    club: Option<usize>,
    /// The share of the club's members this group gets; zero for groups
    /// that are not members groups.
    weight: f64,
    towns: Towns,
}

/// The groups planned so far, with ids, paths and layers as the stores
/// compute them.
struct Tree<'o> {
    org: &'o Organisation,
    groups: Vec<Group>,
    /// The types of each group's children, for the static-name check.
    child_types: HashMap<GroupId, Vec<String>>,
    now: DateTime<Utc>,
}

impl Tree<'_> {
    /// Plans a group of `group_type` below `parent` (the root when none)
    /// with its default subgroups; returns their indexes, the group first.
    fn add(
        &mut self,
        parent: Option<usize>,
        group_type: &str,
        fields: GroupPatch,
    ) -> Result<Vec<usize>, ScaleError> {
        let plan = match parent {
            None => group::plan_root(self.org, fields),
            Some(p) => {
                let parent = &self.groups[p];
                let siblings = self
                    .child_types
                    .get(&parent.id)
                    .cloned()
                    .unwrap_or_default();
                group::plan_create(self.org, parent, &siblings, group_type, fields)?
            }
        };
        let mut created: Vec<usize> = Vec::with_capacity(plan.len());
        for new in &plan {
            let parent = match new.parent {
                PlanParent::Existing(id) => self.index_of(id),
                PlanParent::Planned(j) => created.get(j).copied(),
            };
            created.push(self.place(parent, new));
        }
        Ok(created)
    }

    fn index_of(&self, id: GroupId) -> Option<usize> {
        usize::try_from(id.0 - 1)
            .ok()
            .filter(|&i| i < self.groups.len())
    }

    /// Appends one planned group: the next id, the parent's path plus that
    /// id, and its own layer or the parent's.
    fn place(&mut self, parent: Option<usize>, new: &NewGroup) -> usize {
        let index = self.groups.len();
        let id = GroupId(i64::try_from(index).unwrap_or(i64::MAX - 1) + 1);
        let parent = parent.map(|p| &self.groups[p]);
        let mut path = parent.map(|p| p.path.clone()).unwrap_or_default();
        path.push(id);
        let layer_group_id = match parent {
            Some(p) if !new.is_layer => p.layer_group_id,
            _ => id,
        };
        let f = &new.fields;
        let group = Group {
            id,
            parent_id: parent.map(|p| p.id),
            path,
            layer_group_id,
            group_type: new.group_type.clone(),
            name: f.name.clone().unwrap_or_default(),
            short_name: f.short_name.clone(),
            email: f.email.clone(),
            description: f.description.clone(),
            address: f.address.clone(),
            created_at: self.now,
            updated_at: self.now,
            deleted_at: None,
            archived_at: None,
        };
        if let Some(p) = group.parent_id {
            self.child_types
                .entry(p)
                .or_default()
                .push(group.group_type.clone());
        }
        self.groups.push(group);
        index
    }
}

/// The layer types of a federation: the root, the regions and the clubs.
/// An organisation of two levels has no regions; one of a single layer has
/// neither.
struct Levels<'o> {
    root: &'o GroupType,
    region: Option<&'o GroupType>,
    club: Option<&'o GroupType>,
}

impl<'o> Levels<'o> {
    fn of(org: &'o Organisation) -> Levels<'o> {
        let next = |t: &GroupType| {
            t.children
                .iter()
                .filter_map(|c| org.group_type(c))
                .find(|c| c.is_layer)
        };
        let root = org.root_type();
        let first = next(root);
        let second = first.and_then(next);
        match second {
            Some(club) => Levels {
                root,
                region: first,
                club: Some(club),
            },
            None => Levels {
                root,
                region: None,
                club: first,
            },
        }
    }
}

/// An optional subgroup of a club: below the club itself or below its
/// main members group.
#[derive(Clone, Debug)]
struct Extra {
    group_type: String,
    is_below_members: bool,
    size: usize,
}

/// Lays out the groups of a federation of about `target` groups.
struct Layout<'o> {
    org: &'o Organisation,
    levels: Levels<'o>,
    tree: Tree<'o>,
    spots: Vec<Spot>,
    target: usize,
    /// Extras (committees, working groups) of the root and the regions.
    has_extras: bool,
}

/// Topics of the committees or working groups added to the root and
/// regions.
const TOPICS: &[&str] = &[
    "Ausbildung",
    "Finanzen",
    "Jugend",
    "Kommunikation",
    "Anlässe",
    "Ethik",
];
/// Names of the members subgroups some clubs have.
const SUBGROUPS: &[&str] = &["Senioren", "Junioren", "Plauschgruppe", "Wettkampf"];
/// Suffixes for a second club in the same town.
const QUARTERS: &[&str] = &["Nord", "Süd", "Ost", "West", "Mitte", "Altstadt", "See"];

impl<'o> Layout<'o> {
    fn new(org: &'o Organisation, target: usize, now: DateTime<Utc>) -> Result<Self, ScaleError> {
        let layout = Layout {
            org,
            levels: Levels::of(org),
            tree: Tree {
                org,
                groups: Vec::new(),
                child_types: HashMap::new(),
                now,
            },
            spots: Vec::new(),
            target,
            has_extras: target >= 50,
        };
        let min = layout.fixed_size(1) + layout.min_club_size();
        if target < min {
            return Err(ScaleError::TooFewGroups {
                groups: target,
                min,
                org: org.name.clone(),
            });
        }
        Ok(layout)
    }

    fn size_of(&self, group_type: &str) -> usize {
        size_with_defaults(self.org, group_type)
    }

    /// Extra group types that may go below a group of `t`: non-layer
    /// children that are not created by default.
    fn optional_children(&self, t: &GroupType) -> Vec<&'o GroupType> {
        t.children
            .iter()
            .filter(|c| !t.default_children.contains(c))
            .filter_map(|c| self.org.group_type(c))
            .filter(|c| !c.is_layer)
            .collect()
    }

    fn is_members_type(&self, t: &GroupType) -> bool {
        self.org
            .role_types_of(&t.key)
            .any(|r| matches!(part_of(r), Some(Part::Member | Part::Junior)))
    }

    /// The members group type among a club's default subgroups, if any.
    fn default_members_type(&self) -> Option<&'o GroupType> {
        let club = self.levels.club?;
        club.default_children
            .iter()
            .filter_map(|c| self.org.group_type(c))
            .find(|t| self.is_members_type(t))
    }

    /// Members units a club must add because its defaults have none (the
    /// units of a scout group, say).
    fn unit_types(&self) -> Vec<&'o GroupType> {
        match (self.levels.club, self.default_members_type()) {
            (Some(club), None) => self
                .optional_children(club)
                .into_iter()
                .filter(|t| self.is_members_type(t))
                .collect(),
            _ => Vec::new(),
        }
    }

    fn min_club_size(&self) -> usize {
        let Some(club) = self.levels.club else {
            return 0;
        };
        let unit = self
            .unit_types()
            .first()
            .map_or(0, |t| self.size_of(&t.key));
        self.size_of(&club.key) + unit
    }

    /// The groups of the root and `regions` regions, extras included.
    fn fixed_size(&self, regions: usize) -> usize {
        let root = self.size_of(&self.levels.root.key) + self.root_extras().len();
        let Some(region) = self.levels.region else {
            return root;
        };
        let extras = self.region_extra().map_or(0, |t| self.size_of(&t.key));
        let with_extra = regions.div_ceil(3);
        root + regions * self.size_of(&region.key) + with_extra * extras
    }

    fn root_extras(&self) -> Vec<&'o GroupType> {
        let Some(t) = self
            .optional_children(self.levels.root)
            .into_iter()
            .next()
            .filter(|_| self.has_extras)
        else {
            return Vec::new();
        };
        if self.size_of(&t.key) == 1 {
            vec![t, t]
        } else {
            Vec::new()
        }
    }

    fn region_extra(&self) -> Option<&'o GroupType> {
        let region = self.levels.region?;
        self.optional_children(region)
            .into_iter()
            .next()
            .filter(|t| self.has_extras && self.size_of(&t.key) == 1)
    }

    fn region_count(&self) -> usize {
        if self.levels.region.is_none() {
            return 0;
        }
        let mut n = (self.target / 65).clamp(1, REGIONS.len());
        while n > 1 && self.fixed_size(n) + self.min_club_size() > self.target {
            n -= 1;
        }
        n
    }

    fn build(&mut self, rng: &mut StdRng) -> Result<(), ScaleError> {
        let root_fields = GroupPatch {
            name: Some(self.org.name.clone()),
            address: BERN.address("Bundesgasse", "20"),
            ..GroupPatch::default()
        };
        let root_towns = Towns {
            home: BERN,
            around: TOWNS_FEDERATION,
        };
        let root = self.tree.add(None, &self.levels.root.key, root_fields)?;
        self.add_spots(&root, Level::Root, None, root_towns);
        for (i, t) in self.root_extras().into_iter().enumerate() {
            let fields = named(format!("{} {}", self.label(t), TOPICS[i % TOPICS.len()]));
            let extra = self.tree.add(Some(0), &t.key, fields)?;
            self.add_spots(&extra, Level::Extra, None, root_towns);
        }
        let regions = self.add_regions()?;
        self.add_clubs(&regions, rng)
    }

    fn label(&self, t: &GroupType) -> String {
        t.labels.get(self.org.default_language()).to_owned()
    }

    /// Adds the regions; returns each one's group index (none for an
    /// organisation without regions: the root then) and towns.
    fn add_regions(&mut self) -> Result<Vec<(usize, &'static [Town])>, ScaleError> {
        let Some(region) = self.levels.region else {
            return Ok(REGIONS.iter().map(|(_, towns)| (0, *towns)).collect());
        };
        let mut out = Vec::new();
        let extra = self.region_extra();
        for (i, (name, towns)) in REGIONS.iter().take(self.region_count()).enumerate() {
            let home = towns[0];
            let fields = GroupPatch {
                name: Some(format!("{} {name}", self.label(region))),
                address: home.address("Bahnhofplatz", &(i + 1).to_string()),
                ..GroupPatch::default()
            };
            let placed = self.tree.add(Some(0), &region.key, fields)?;
            let spot_towns = Towns {
                home,
                around: towns,
            };
            self.add_spots(&placed, Level::Region, None, spot_towns);
            if let Some(t) = extra.filter(|_| i % 3 == 0) {
                let topic = TOPICS[(i / 3) % TOPICS.len()];
                let fields = named(format!("{} {topic}", self.label(t)));
                let added = self.tree.add(Some(placed[0]), &t.key, fields)?;
                self.add_spots(&added, Level::Extra, None, spot_towns);
            }
            out.push((placed[0], *towns));
        }
        Ok(out)
    }

    /// Adds clubs until the groups reach the target: each with its default
    /// subgroups and some optional ones, never leaving fewer groups than a
    /// club needs (the last club takes the rest as members subgroups).
    fn add_clubs(
        &mut self,
        regions: &[(usize, &'static [Town])],
        rng: &mut StdRng,
    ) -> Result<(), ScaleError> {
        let Some(club) = self.levels.club else {
            return Ok(());
        };
        let min = self.min_club_size();
        let mut names: HashMap<String, usize> = HashMap::new();
        let mut club_index = 0;
        while self.target.saturating_sub(self.tree.groups.len()) >= min {
            let left = self.target - self.tree.groups.len();
            let extras = self.club_extras(rng, left, min);
            let (parent, towns) = if club_index == 0 {
                regions[0]
            } else {
                regions[rng.gen_range(0..regions.len())]
            };
            let home = towns[rng.gen_range(0..towns.len())];
            let name = club_name(&mut names, &self.label(club), home);
            let street = STREETS[rng.gen_range(0..STREETS.len())];
            let fields = GroupPatch {
                name: Some(name),
                address: home.address(street, &rng.gen_range(1..=60).to_string()),
                ..GroupPatch::default()
            };
            let spot_towns = Towns {
                home,
                around: towns,
            };
            let placed = self.tree.add(Some(parent), &club.key, fields)?;
            self.add_club_spots(&placed, club_index, 1.0, spot_towns);
            let members = placed.iter().copied().find(|&g| self.is_members_group(g));
            for (i, extra) in extras.iter().enumerate() {
                let below = if extra.is_below_members {
                    members
                } else {
                    None
                };
                let at = below.unwrap_or(placed[0]);
                let name = match self.org.group_type(&extra.group_type) {
                    _ if extra.is_below_members => SUBGROUPS[i % SUBGROUPS.len()].to_owned(),
                    Some(t) => self.label(t),
                    None => extra.group_type.clone(),
                };
                let added = self.tree.add(Some(at), &extra.group_type, named(name))?;
                let is_unit = self.unit_types().iter().any(|u| u.key == extra.group_type);
                let weight = if is_unit { 1.0 } else { 0.15 };
                self.add_club_spots(&added, club_index, weight, spot_towns);
            }
            club_index += 1;
        }
        Ok(())
    }

    fn is_members_group(&self, index: usize) -> bool {
        self.org
            .group_type(&self.tree.groups[index].group_type)
            .is_some_and(|t| self.is_members_type(t))
    }

    /// The optional subgroups of the next club, `left` groups being left:
    /// members units where the defaults have none, now and then contacts,
    /// a committee or a members subgroup; then sized so that what remains
    /// is either nothing or enough for another club.
    fn club_extras(&self, rng: &mut StdRng, left: usize, min: usize) -> Vec<Extra> {
        let Some(club) = self.levels.club else {
            return Vec::new();
        };
        let extra = |t: &GroupType, is_below_members: bool| Extra {
            group_type: t.key.clone(),
            is_below_members,
            size: self.size_of(&t.key),
        };
        let mut extras: Vec<Extra> = Vec::new();
        let units = self.unit_types();
        for (i, t) in units.iter().enumerate() {
            if i == 0 || rng.gen_bool(0.7) {
                extras.push(extra(t, false));
            }
        }
        for t in self.optional_children(club) {
            if !units.iter().any(|u| u.key == t.key) && rng.gen_bool(0.25) {
                extras.push(extra(t, false));
            }
        }
        let nested = self.nested_members_type();
        if let Some(t) = nested.filter(|_| rng.gen_bool(0.2)) {
            extras.push(extra(t, true));
        }

        let base = self.size_of(&club.key);
        let size = |e: &[Extra]| base + e.iter().map(|x| x.size).sum::<usize>();
        // The first unit is required; drop optional extras that overflow.
        while size(&extras) > left && extras.len() > usize::from(!units.is_empty()) {
            extras.pop();
        }
        let rest = left.saturating_sub(size(&extras));
        if rest > 0
            && rest < min
            && let Some(t) = nested.filter(|t| self.size_of(&t.key) == 1)
        {
            extras.extend((0..rest).map(|_| extra(t, true)));
        }
        extras
    }

    /// A members group type among the club's defaults that may hold
    /// subgroups of its own type, with no default subgroups itself.
    fn nested_members_type(&self) -> Option<&'o GroupType> {
        self.default_members_type()
            .filter(|t| t.children.contains(&t.key) && t.default_children.is_empty())
    }

    fn add_spots(&mut self, groups: &[usize], level: Level, club: Option<usize>, towns: Towns) {
        for &group in groups {
            self.spots.push(Spot {
                group,
                level,
                club,
                weight: 0.0,
                towns,
            });
        }
    }

    /// Spots for a club's groups; members groups get `weight` of the
    /// club's members, other groups none.
    fn add_club_spots(&mut self, groups: &[usize], club: usize, weight: f64, towns: Towns) {
        for &group in groups {
            let weight = if self.is_members_group(group) {
                weight
            } else {
                0.0
            };
            self.spots.push(Spot {
                group,
                level: Level::Extra,
                club: Some(club),
                weight,
                towns,
            });
        }
    }
}

/// A group of this type with its default subgroups, counted.
fn size_with_defaults(org: &Organisation, group_type: &str) -> usize {
    // The loader refuses cycles among default children, so this ends.
    1 + org
        .group_type(group_type)
        .map(|t| {
            t.default_children
                .iter()
                .map(|c| size_with_defaults(org, c))
                .sum::<usize>()
        })
        .unwrap_or(0)
}

fn named(name: String) -> GroupPatch {
    GroupPatch {
        name: Some(name),
        ..GroupPatch::default()
    }
}

/// "Club Thun", then "Club Thun Nord" and so on for further clubs in the
/// same town, then numbers.
fn club_name(taken: &mut HashMap<String, usize>, label: &str, town: Town) -> String {
    let base = format!("{label} {}", town.1);
    let n = taken.entry(base.clone()).or_insert(0);
    *n += 1;
    match *n {
        1 => base,
        n if n - 2 < QUARTERS.len() => format!("{base} {}", QUARTERS[n - 2]),
        n => format!("{base} {}", n - QUARTERS.len()),
    }
}

// ----------------------------------------------------------------- the people

/// The chunks of a plan's people; see [`Plan::chunks`].
pub struct Chunks<'p> {
    people: People<'p>,
    size: usize,
}

impl Iterator for Chunks<'_> {
    type Item = Chunk;

    fn next(&mut self) -> Option<Chunk> {
        let mut chunk = Chunk {
            people: Vec::with_capacity(self.size),
            roles: Vec::with_capacity(self.size + self.size / 4),
        };
        while chunk.people.len() < self.size {
            let Some((person, roles)) = self.people.next_person() else {
                break;
            };
            chunk.people.push(person);
            chunk.roles.extend(roles);
        }
        (!chunk.people.is_empty()).then_some(chunk)
    }
}

/// How old a generated person is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Age {
    Junior,
    Adult,
    Senior,
}

/// The generator of people: walks the placements in order, one random
/// stream for all choices.
struct People<'p> {
    plan: &'p Plan,
    org: &'p Organisation,
    rng: StdRng,
    today: NaiveDate,
    /// How often each `first.last@domain` was handed out.
    emails: HashMap<String, u32>,
    placement: usize,
    done_in_placement: usize,
    made: usize,
    next_role: i64,
}

impl<'p> People<'p> {
    fn new(plan: &'p Plan, org: &'p Organisation) -> People<'p> {
        People {
            plan,
            org,
            // Another stream than the layout's, so that changing the
            // number of people keeps the groups.
            rng: StdRng::seed_from_u64(plan.seed ^ 0x7065_6f70_6c65),
            today: plan.now.date_naive(),
            emails: HashMap::new(),
            placement: 0,
            done_in_placement: 0,
            made: 0,
            next_role: 1,
        }
    }

    fn next_person(&mut self) -> Option<(Person, Vec<Role>)> {
        if self.made >= self.plan.people {
            return None;
        }
        let placement = self.current_placement()?;
        self.done_in_placement += 1;
        self.made += 1;
        let id = PersonId(i64::try_from(self.made).unwrap_or(i64::MAX));
        let age = self.age_of(placement.part);
        let roles = self.roles(id, placement, age);
        let mut person = if id == ADMIN_ID {
            self.admin(id)
        } else {
            self.person(id, placement, age)
        };
        self.derive(&mut person, &roles);
        Some((person, roles))
    }

    /// The placement the next person comes from; after the last one the
    /// clubs' members are repeated (only when rounding left people over).
    fn current_placement(&mut self) -> Option<&'p Placement> {
        let placements = &self.plan.placements;
        while self
            .placements_at(self.placement)
            .is_some_and(|p| self.done_in_placement >= p.count)
        {
            self.placement += 1;
            self.done_in_placement = 0;
        }
        match placements.get(self.placement) {
            Some(p) => Some(p),
            None => placements
                .iter()
                .rev()
                .find(|p| p.part == Part::Member)
                .or(placements.last()),
        }
    }

    fn placements_at(&self, i: usize) -> Option<&'p Placement> {
        self.plan.placements.get(i)
    }

    fn age_of(&mut self, part: Part) -> Age {
        match part {
            Part::Junior => Age::Junior,
            Part::Passive if self.rng.gen_bool(0.7) => Age::Senior,
            Part::Member if self.rng.gen_bool(0.12) => Age::Senior,
            _ => Age::Adult,
        }
    }

    fn admin(&mut self, id: PersonId) -> Person {
        let mut p = blank_person(id, self.plan.now);
        p.first_name = Some("Ada".to_owned());
        p.last_name = Some("Admin".to_owned());
        p.email = Some(self.plan.admin_email.clone());
        p.address = BERN.address("Bundesgasse", "20");
        p.language = self.org.default_language().to_owned();
        p
    }

    fn person(&mut self, id: PersonId, placement: &Placement, age: Age) -> Person {
        let is_female = self.rng.gen_bool(0.5);
        let first = match (age, is_female) {
            (Age::Junior, true) => pick(&mut self.rng, GIRLS),
            (Age::Junior, false) => pick(&mut self.rng, BOYS),
            (_, true) => pick(&mut self.rng, WOMEN),
            (_, false) => pick(&mut self.rng, MEN),
        };
        let last = pick(&mut self.rng, LAST_NAMES);
        let years = match age {
            Age::Junior => self.rng.gen_range(6..=17),
            Age::Adult => self.rng.gen_range(18..=64),
            Age::Senior => self.rng.gen_range(65..=90),
        };
        let has_email = match age {
            Age::Adult => self.rng.gen_bool(0.92),
            Age::Senior => self.rng.gen_bool(0.7),
            Age::Junior => years >= 14 && self.rng.gen_bool(0.6),
        };
        let town = if self.rng.gen_bool(0.65) {
            placement.towns.home
        } else {
            pick(&mut self.rng, placement.towns.around)
        };
        let mut number = self.rng.gen_range(1..=120).to_string();
        if self.rng.gen_bool(0.1) {
            number.push('a');
        }
        let mut p = blank_person(id, self.plan.now);
        p.first_name = Some(first.to_owned());
        p.last_name = Some(last.to_owned());
        p.nickname = self
            .rng
            .gen_bool(0.04)
            .then(|| pick(&mut self.rng, NICKNAMES).to_owned());
        p.email = has_email.then(|| self.email(first, last));
        p.address = town.address(pick(&mut self.rng, STREETS), &number);
        p.gender = (!self.rng.gen_bool(0.03)).then(|| if is_female { "w" } else { "m" }.into());
        let days = years * 365 + self.rng.gen_range(0..365);
        p.birthday = Some(self.days_ago(days));
        p.language = self.language();
        p
    }

    /// A unique address made of the names: the n-th person of the same
    /// names and domain gets `n` after the names. Names hold no digits, so
    /// no two bases collide; the administrator's address is skipped.
    fn email(&mut self, first: &str, last: &str) -> String {
        let domain = pick(&mut self.rng, MAIL_DOMAINS);
        let local = format!("{}.{}", ascii_fold(first), ascii_fold(last));
        let n = self.emails.entry(format!("{local}@{domain}")).or_insert(0);
        loop {
            *n += 1;
            let candidate = match *n {
                1 => format!("{local}@{domain}"),
                n => format!("{local}{n}@{domain}"),
            };
            if !candidate.eq_ignore_ascii_case(&self.plan.admin_email) {
                return candidate;
            }
        }
    }

    fn language(&mut self) -> String {
        let wanted = if self.rng.gen_bool(0.85) { "de" } else { "en" };
        if self.org.languages.iter().any(|l| l == wanted) {
            wanted.to_owned()
        } else {
            self.org.default_language().to_owned()
        }
    }

    fn days_ago(&self, days: u64) -> NaiveDate {
        self.today
            .checked_sub_days(Days::new(days))
            .unwrap_or(self.today)
    }

    /// The person's roles: the placement's, then what comes with it (an
    /// earlier active membership for a passive member, a membership for a
    /// board member or trainer, another club now or in the past).
    fn roles(&mut self, person: PersonId, placement: &Placement, age: Age) -> Vec<Role> {
        let group = self.plan.group_id(placement.group);
        let start = self.start(placement.part, age);
        let mut roles = vec![self.role(person, group, &placement.role_type, start, None)];
        let club = placement.club.and_then(|c| self.plan.clubs.get(c));
        let members = club.and_then(|c| c.members.clone());
        match (placement.part, members) {
            (Part::Passive, _) => {
                if let Some(rt) = self.member_type_of(placement.group) {
                    let end = start.pred_opt().unwrap_or(start);
                    let began = end
                        .checked_sub_days(Days::new(self.rng.gen_range(2 * 365..=10 * 365)))
                        .unwrap_or(end);
                    roles.push(self.role(person, group, &rt, began, Some(end)));
                }
            }
            (Part::Lead | Part::Officer, Some((g, rt))) if self.rng.gen_bool(0.6) => {
                let began = self.start(Part::Member, age);
                let g = self.plan.group_id(g);
                roles.push(self.role(person, g, &rt, began, None));
                self.other_club(person, placement, &mut roles);
            }
            (Part::Member, Some(_)) => self.other_club(person, placement, &mut roles),
            _ => {}
        }
        roles
    }

    /// Now and then a member of a second club, or a former member of
    /// another club.
    fn other_club(&mut self, person: PersonId, placement: &Placement, roles: &mut Vec<Role>) {
        let clubs = &self.plan.clubs;
        if clubs.len() < 2 {
            return;
        }
        let draw: f64 = self.rng.r#gen();
        let is_current = draw < 0.08;
        if !is_current && draw >= 0.14 {
            return;
        }
        let other = self.rng.gen_range(0..clubs.len());
        let Some((g, rt)) = clubs[other]
            .members
            .clone()
            .filter(|_| Some(other) != placement.club)
        else {
            return;
        };
        let g = self.plan.group_id(g);
        if is_current {
            let began = self.start(Part::Member, Age::Adult);
            roles.push(self.role(person, g, &rt, began, None));
        } else {
            let ago = self.rng.gen_range(365..=6 * 365);
            let end = self.days_ago(ago);
            let began = end
                .checked_sub_days(Days::new(self.rng.gen_range(365..=8 * 365)))
                .unwrap_or(end);
            roles.push(self.role(person, g, &rt, began, Some(end)));
        }
    }

    /// The ordinary member role type of a group's type.
    fn member_type_of(&self, group: usize) -> Option<String> {
        self.org
            .role_types_of(&self.plan.groups[group].group_type)
            .find(|r| part_of(r) == Some(Part::Member))
            .map(|r| r.key.clone())
    }

    /// The first day of a role: officers took office up to 8 years ago,
    /// juniors joined up to 4 years ago, everybody else up to 15.
    fn start(&mut self, part: Part, age: Age) -> NaiveDate {
        let days = match (part, age) {
            (Part::Lead | Part::Officer, _) => self.rng.gen_range(30..=8 * 365),
            (_, Age::Junior) => self.rng.gen_range(30..=4 * 365),
            _ => self.rng.gen_range(60..=15 * 365),
        };
        self.days_ago(days)
    }

    fn role(
        &mut self,
        person: PersonId,
        group: GroupId,
        role_type: &str,
        start: NaiveDate,
        end: Option<NaiveDate>,
    ) -> Role {
        let id = RoleId(self.next_role);
        self.next_role += 1;
        let created_at = morning(start, self.plan.now);
        let updated_at = end
            .and_then(|e| e.succ_opt())
            .map_or(created_at, |e| morning(e, self.plan.now));
        Role {
            id,
            person_id: person,
            group_id: group,
            role_type: role_type.to_owned(),
            label: None,
            start_on: Some(start),
            end_on: end,
            archived_at: None,
            is_terminated: false,
            created_at,
            updated_at,
        }
    }

    /// Primary group and contact-data visibility, as the stores refresh
    /// them after each role is created in order; the person was created
    /// with the earliest role.
    fn derive(&self, person: &mut Person, roles: &[Role]) {
        let mut primary = None;
        for i in 0..roles.len() {
            primary = person::primary_group_after(primary, &roles[..=i], self.today);
        }
        person.primary_group_id = primary;
        person.contact_data_visible = person::contact_data_visible(self.org, roles, self.today);
        if let Some(first) = roles.iter().map(|r| r.created_at).min() {
            person.created_at = first;
            person.updated_at = first;
        }
    }
}

fn pick<T: Copy>(rng: &mut StdRng, list: &[T]) -> T {
    list[rng.gen_range(0..list.len())]
}

/// 08:00 UTC of `day`, as if entered that morning; `now` for a later day.
fn morning(day: NaiveDate, now: DateTime<Utc>) -> DateTime<Utc> {
    day.and_hms_opt(8, 0, 0)
        .map(|t| t.and_utc())
        .filter(|t| *t < now)
        .unwrap_or(now)
}

fn blank_person(id: PersonId, now: DateTime<Utc>) -> Person {
    Person {
        id,
        first_name: None,
        last_name: None,
        nickname: None,
        company_name: None,
        is_company: false,
        email: None,
        address: crate::group::Address::default(),
        gender: None,
        birthday: None,
        language: String::new(),
        additional_information: None,
        primary_group_id: None,
        contact_data_visible: false,
        created_at: now,
        updated_at: now,
    }
}

const NICKNAMES: &[&str] = &[
    "Fuchs",
    "Luchs",
    "Biber",
    "Wiesel",
    "Falk",
    "Pfiff",
    "Tschäggi",
    "Kobold",
    "Sprint",
    "Mungg",
];

// ------------------------------------------------------------------ regions

/// The regions in the order they are created (at most twenty), with the
/// towns their clubs and people are in: zip code, name, area code.
const REGIONS: &[(&str, &[Town])] = &[
    ("Bern", TOWNS_BERN),
    ("Zürich", TOWNS_ZUERICH),
    ("Winterthur", TOWNS_WINTERTHUR),
    ("Luzern", TOWNS_LUZERN),
    ("Basel", TOWNS_BASEL),
    ("St. Gallen", TOWNS_ST_GALLEN),
    ("Aargau", TOWNS_AARGAU),
    ("Schaffhausen", TOWNS_SCHAFFHAUSEN),
    ("Graubünden", TOWNS_GRAUBUENDEN),
    ("Fribourg", TOWNS_FRIBOURG),
    ("Biel-Seeland", TOWNS_SEELAND),
    ("Solothurn", TOWNS_SOLOTHURN),
    ("Thurgau", TOWNS_THURGAU),
    ("Zug-Schwyz", TOWNS_ZUG_SCHWYZ),
    ("Wallis", TOWNS_WALLIS),
    ("Ticino", TOWNS_TICINO),
    ("Glarus-Uri", TOWNS_GLARUS_URI),
    ("Emmental-Oberaargau", TOWNS_EMMENTAL),
    ("Berner Oberland", TOWNS_OBERLAND),
    ("Jura-Neuchâtel", TOWNS_JURA),
];

const TOWNS_BERN: &[Town] = &[
    BERN,
    Town("3012", "Bern", "31"),
    Town("3014", "Bern", "31"),
    Town("3063", "Ittigen", "31"),
    Town("3084", "Wabern", "31"),
    Town("3123", "Belp", "31"),
    Town("3073", "Gümligen", "31"),
];
const TOWNS_ZUERICH: &[Town] = &[
    Town("8001", "Zürich", "44"),
    Town("8005", "Zürich", "44"),
    Town("8048", "Zürich", "44"),
    Town("8050", "Zürich", "44"),
    Town("8600", "Dübendorf", "44"),
    Town("8610", "Uster", "44"),
    Town("8800", "Thalwil", "44"),
    Town("8810", "Horgen", "44"),
    Town("8700", "Küsnacht", "44"),
    Town("8953", "Dietikon", "44"),
];
const TOWNS_BASEL: &[Town] = &[
    Town("4051", "Basel", "61"),
    Town("4052", "Basel", "61"),
    Town("4056", "Basel", "61"),
    Town("4123", "Allschwil", "61"),
    Town("4132", "Muttenz", "61"),
    Town("4410", "Liestal", "61"),
    Town("4153", "Reinach BL", "61"),
    Town("4142", "Münchenstein", "61"),
];
const TOWNS_ST_GALLEN: &[Town] = &[
    Town("9000", "St. Gallen", "71"),
    Town("9008", "St. Gallen", "71"),
    Town("9200", "Gossau SG", "71"),
    Town("9500", "Wil SG", "71"),
    Town("9400", "Rorschach", "71"),
    Town("9450", "Altstätten", "71"),
    Town("8645", "Jona", "55"),
];
const TOWNS_AARGAU: &[Town] = &[
    Town("5000", "Aarau", "62"),
    Town("5400", "Baden", "56"),
    Town("5430", "Wettingen", "56"),
    Town("5600", "Lenzburg", "62"),
    Town("5200", "Brugg", "56"),
    Town("4800", "Zofingen", "62"),
    Town("5610", "Wohlen AG", "56"),
];
const TOWNS_GRAUBUENDEN: &[Town] = &[
    Town("7000", "Chur", "81"),
    Town("7270", "Davos Platz", "81"),
    Town("7500", "St. Moritz", "81"),
    Town("7130", "Ilanz", "81"),
    Town("7302", "Landquart", "81"),
    Town("7408", "Cazis", "81"),
];
const TOWNS_FRIBOURG: &[Town] = &[
    Town("1700", "Fribourg", "26"),
    Town("1630", "Bulle", "26"),
    Town("3280", "Murten", "26"),
    Town("3186", "Düdingen", "26"),
    Town("1680", "Romont", "26"),
];
const TOWNS_SEELAND: &[Town] = &[
    Town("2502", "Biel/Bienne", "32"),
    Town("2503", "Biel/Bienne", "32"),
    Town("2540", "Grenchen", "32"),
    Town("3250", "Lyss", "32"),
    Town("2560", "Nidau", "32"),
];
const TOWNS_SOLOTHURN: &[Town] = &[
    Town("4500", "Solothurn", "32"),
    Town("4600", "Olten", "62"),
    Town("4562", "Biberist", "32"),
    Town("4528", "Zuchwil", "32"),
    Town("4710", "Balsthal", "62"),
];
const TOWNS_THURGAU: &[Town] = &[
    Town("8500", "Frauenfeld", "52"),
    Town("8280", "Kreuzlingen", "71"),
    Town("8570", "Weinfelden", "71"),
    Town("9320", "Arbon", "71"),
    Town("8590", "Romanshorn", "71"),
    Town("9220", "Bischofszell", "71"),
];
const TOWNS_ZUG_SCHWYZ: &[Town] = &[
    Town("6300", "Zug", "41"),
    Town("6330", "Cham", "41"),
    Town("6340", "Baar", "41"),
    Town("6430", "Schwyz", "41"),
    Town("8840", "Einsiedeln", "55"),
    Town("8853", "Lachen", "55"),
];
const TOWNS_WALLIS: &[Town] = &[
    Town("3900", "Brig", "27"),
    Town("3930", "Visp", "27"),
    Town("3960", "Sierre", "27"),
    Town("1950", "Sion", "27"),
    Town("3920", "Zermatt", "27"),
    Town("1920", "Martigny", "27"),
];
const TOWNS_TICINO: &[Town] = &[
    Town("6900", "Lugano", "91"),
    Town("6500", "Bellinzona", "91"),
    Town("6600", "Locarno", "91"),
    Town("6850", "Mendrisio", "91"),
    Town("6830", "Chiasso", "91"),
];
const TOWNS_GLARUS_URI: &[Town] = &[
    Town("8750", "Glarus", "55"),
    Town("8752", "Näfels", "55"),
    Town("8762", "Schwanden GL", "55"),
    Town("6460", "Altdorf UR", "41"),
    Town("6490", "Andermatt", "41"),
];
const TOWNS_EMMENTAL: &[Town] = &[
    Town("3400", "Burgdorf", "34"),
    Town("3550", "Langnau im Emmental", "34"),
    Town("4900", "Langenthal", "62"),
    Town("3425", "Koppigen", "34"),
    Town("3510", "Konolfingen", "31"),
];
const TOWNS_OBERLAND: &[Town] = &[
    Town("3600", "Thun", "33"),
    Town("3800", "Interlaken", "33"),
    Town("3700", "Spiez", "33"),
    Town("3780", "Gstaad", "33"),
    Town("3860", "Meiringen", "33"),
    Town("3714", "Frutigen", "33"),
];
const TOWNS_JURA: &[Town] = &[
    Town("2000", "Neuchâtel", "32"),
    Town("2300", "La Chaux-de-Fonds", "32"),
    Town("2800", "Delémont", "32"),
    Town("2900", "Porrentruy", "32"),
    Town("2400", "Le Locle", "32"),
];

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::path::Path;

    use chrono::TimeZone;

    use super::*;

    fn org(file: &str) -> Organisation {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../examples")
            .join(file);
        Organisation::from_file(&path).expect("the organisation loads")
    }

    fn demo() -> Organisation {
        org("demo-federation.toml")
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 6, 2, 8, 0, 0)
            .single()
            .expect("valid time")
    }

    fn options(people: usize, groups: usize) -> ScaleOptions {
        ScaleOptions {
            people,
            groups,
            seed: 7,
            admin_email: "admin@demo.example".to_owned(),
        }
    }

    fn everyone(org: &Organisation, plan: &Plan) -> (Vec<Person>, Vec<Role>) {
        let mut people = Vec::new();
        let mut roles = Vec::new();
        for chunk in plan.chunks(org, 777) {
            people.extend(chunk.people);
            roles.extend(chunk.roles);
        }
        (people, roles)
    }

    #[test]
    fn demo_federation_gets_exactly_the_groups_asked_for() {
        let org = demo();
        for groups in [12, 60, 333, 1000] {
            let plan = Plan::new(&org, &options(100, groups), now()).expect("planned");
            assert_eq!(plan.groups.len(), groups);
        }
    }

    #[test]
    fn too_few_groups_are_refused_naming_the_minimum() {
        let e = Plan::new(&demo(), &options(100, 5), now()).expect_err("too few");
        assert!(
            matches!(
                e,
                ScaleError::TooFewGroups {
                    groups: 5,
                    min: 10,
                    ..
                }
            ),
            "{e}"
        );
    }

    #[test]
    fn paths_and_layers_follow_the_parents() {
        let org = demo();
        let plan = Plan::new(&org, &options(100, 300), now()).expect("planned");
        for (i, g) in plan.groups.iter().enumerate() {
            assert_eq!(g.id.0, i as i64 + 1);
            let Some(parent) = g.parent_id else {
                assert_eq!(g.path, [g.id]);
                continue;
            };
            let p = &plan.groups[(parent.0 - 1) as usize];
            assert!(p.id < g.id, "parents come first");
            assert_eq!(g.path[..g.path.len() - 1], p.path[..]);
            assert!(org.is_child_allowed(&p.group_type, &g.group_type));
            let is_layer = org.group_type(&g.group_type).expect("type").is_layer;
            let layer = if is_layer { g.id } else { p.layer_group_id };
            assert_eq!(g.layer_group_id, layer, "{}", g.name);
        }
        let regions = plan.groups.iter().filter(|g| g.group_type == "Region");
        assert_eq!(regions.count(), 4);
    }

    #[test]
    fn people_count_roles_and_emails_look_like_a_federation() {
        let org = demo();
        let plan = Plan::new(&org, &options(20_000, 200), now()).expect("planned");
        let (people, roles) = everyone(&org, &plan);
        assert_eq!(people.len(), 20_000);
        let ratio = roles.len() as f64 / people.len() as f64;
        assert!((1.12..1.3).contains(&ratio), "{ratio} roles per person");

        let emails: Vec<String> = people.iter().filter_map(|p| p.email.clone()).collect();
        let unique: HashSet<String> = emails.iter().map(|e| e.to_lowercase()).collect();
        assert_eq!(unique.len(), emails.len(), "emails are unique");
        assert!(emails.len() < people.len() * 95 / 100, "some have none");
        assert!(
            people
                .iter()
                .any(|p| p.last_name.as_deref() == Some("Müller"))
        );

        let in_clubs = roles
            .iter()
            .filter(|r| r.role_type.starts_with("ClubMembers."))
            .count();
        assert!(in_clubs * 100 > roles.len() * 85, "most roles are in clubs");
        for role in [
            "ClubBoard.President",
            "ClubMembers.Trainer",
            "ClubMembers.Junior",
        ] {
            assert!(roles.iter().any(|r| r.role_type == role), "{role}");
        }
        let today = now().date_naive();
        let ended = roles.iter().filter(|r| r.end_on.is_some_and(|e| e < today));
        assert!(ended.count() > people.len() / 20);
    }

    #[test]
    fn roles_fit_their_groups_and_people_their_derived_state() {
        let org = demo();
        let plan = Plan::new(&org, &options(3_000, 80), now()).expect("planned");
        let (people, roles) = everyone(&org, &plan);
        let today = now().date_naive();
        let mut by_person: HashMap<PersonId, Vec<Role>> = HashMap::new();
        for r in &roles {
            let g = &plan.groups[(r.group_id.0 - 1) as usize];
            assert!(org.is_role_allowed(&g.group_type, &r.role_type), "{r:?}");
            by_person.entry(r.person_id).or_default().push(r.clone());
        }
        let ids: HashSet<RoleId> = roles.iter().map(|r| r.id).collect();
        assert_eq!(ids.len(), roles.len());
        for p in &people {
            let own = &by_person[&p.id];
            assert!(own.len() <= 3);
            assert_eq!(
                p.contact_data_visible,
                person::contact_data_visible(&org, own, today)
            );
            let primary = p.primary_group_id.expect("everyone has an active role");
            assert!(
                own.iter()
                    .any(|r| r.group_id == primary && r.is_active(today))
            );
            assert!(p.clone_patch().validated(&org).is_ok(), "{p:?}");
        }
        let admin = &people[0];
        assert_eq!(admin.email.as_deref(), Some("admin@demo.example"));
        assert_eq!(
            by_person[&ADMIN_ID][0].role_type,
            "Federation.Administrator"
        );
    }

    #[test]
    fn first_club_is_the_largest() {
        let org = demo();
        let plan = Plan::new(&org, &options(50_000, 300), now()).expect("planned");
        let (_, roles) = everyone(&org, &plan);
        let mut per_layer: HashMap<GroupId, usize> = HashMap::new();
        for r in &roles {
            let g = &plan.groups[(r.group_id.0 - 1) as usize];
            *per_layer.entry(g.layer_group_id).or_default() += 1;
        }
        let first_club = plan
            .groups
            .iter()
            .find(|g| g.group_type == "Club")
            .expect("a club");
        let largest = per_layer.values().max().copied().unwrap_or(0);
        assert_eq!(per_layer[&first_club.id], largest);
        assert!(largest > 1_000);
    }

    #[test]
    fn same_seed_gives_the_same_federation_in_any_chunk_size() {
        let org = demo();
        let a = Plan::new(&org, &options(2_000, 60), now()).expect("planned");
        let b = Plan::new(&org, &options(2_000, 60), now()).expect("planned");
        assert_eq!(a.groups, b.groups);
        let whole: Vec<Chunk> = a.chunks(&org, 5_000).collect();
        let parts: Vec<Chunk> = b.chunks(&org, 300).collect();
        let flat = |c: &[Chunk]| -> (Vec<Person>, Vec<Role>) {
            (
                c.iter().flat_map(|c| c.people.clone()).collect(),
                c.iter().flat_map(|c| c.roles.clone()).collect(),
            )
        };
        assert_eq!(flat(&whole), flat(&parts));
        let other = Plan::new(
            &org,
            &ScaleOptions {
                seed: 8,
                ..options(2_000, 60)
            },
            now(),
        )
        .expect("planned");
        assert_ne!(a.groups, other.groups);
    }

    #[test]
    fn another_organisation_gets_its_own_shape() {
        let org = org("scout-association.toml");
        let plan = Plan::new(&org, &options(5_000, 120), now()).expect("planned");
        assert!(plan.groups.len() <= 120 && plan.groups.len() > 100);
        let (people, roles) = everyone(&org, &plan);
        assert_eq!(people.len(), 5_000);
        for r in &roles {
            let g = &plan.groups[(r.group_id.0 - 1) as usize];
            assert!(org.is_role_allowed(&g.group_type, &r.role_type), "{r:?}");
        }
    }

    #[test]
    fn split_adds_up_and_follows_the_weights() {
        assert_eq!(split(10, &[1.0, 1.0, 2.0]), [3, 2, 5]);
        assert_eq!(split(7, &[0.0, 1.0]), [0, 7]);
        assert_eq!(split(5, &[0.0, 0.0]), [0, 0]);
        assert_eq!(split(0, &[1.0]), [0]);
    }

    #[test]
    fn club_names_stay_unique_in_one_town() {
        let mut taken = HashMap::new();
        let names: Vec<String> = (0..10)
            .map(|_| club_name(&mut taken, "Club", crate::seed::LUZERN))
            .collect();
        assert_eq!(names[0], "Club Luzern");
        assert_eq!(names[1], "Club Luzern Nord");
        let unique: HashSet<&String> = names.iter().collect();
        assert_eq!(unique.len(), names.len());
    }

    trait ClonePatch {
        fn clone_patch(&self) -> crate::person::PersonPatch;
    }

    impl ClonePatch for Person {
        fn clone_patch(&self) -> crate::person::PersonPatch {
            crate::person::PersonPatch {
                first_name: self.first_name.clone(),
                last_name: self.last_name.clone(),
                nickname: self.nickname.clone(),
                company_name: self.company_name.clone(),
                is_company: self.is_company,
                email: self.email.clone(),
                address: self.address.clone(),
                gender: self.gender.clone(),
                birthday: self.birthday,
                language: Some(self.language.clone()),
                additional_information: self.additional_information.clone(),
            }
        }
    }
}
