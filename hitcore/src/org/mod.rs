//! The organisation definition: which group types exist, how they nest,
//! which role types each offers and what those roles may do.
//!
//! It replaces hitobito's wagons (Ruby plugins that declare the types in
//! code) with a TOML file loaded and validated at start. Everything here is
//! pure data; nothing reads the database. A mistake in the file is a
//! [`OrgError`] naming the file, the line and what is wrong.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::permission::{Permission, with_implications};

/// The event types every organisation knows; a definition may add more.
pub const CORE_EVENT_TYPES: [&str; 2] = ["Event", "Event::Course"];

/// A text in several languages, keyed by language code (`en`, `de`, ...).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Labels(pub BTreeMap<String, String>);

impl Labels {
    /// The label in `lang`, else in English, else in any language, else `""`.
    pub fn get(&self, lang: &str) -> &str {
        self.0
            .get(lang)
            .or_else(|| self.0.get("en"))
            .or_else(|| self.0.values().next())
            .map(String::as_str)
            .unwrap_or("")
    }
}

/// What kind of membership a role stands for (hitobito's `Role.kind`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoleKind {
    /// A regular member; shown in people lists by default.
    Member,
    /// A passive member, shown behind a filter.
    Passive,
    /// Someone outside the organisation (a contact), shown behind a filter.
    External,
    /// Specially managed; cannot be created, edited or removed through the
    /// role pages (hitobito's `kind = NULL`).
    Restricted,
}

impl RoleKind {
    /// The kind as spelled in files, URLs and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            RoleKind::Member => "member",
            RoleKind::Passive => "passive",
            RoleKind::External => "external",
            RoleKind::Restricted => "restricted",
        }
    }
}

/// One role type, such as `Club.ClubLeader`.
#[derive(Clone, Debug, Serialize)]
pub struct RoleType {
    /// The key stored in `roles.type`: `<GroupType>.<Name>`, or the bare name
    /// for a global role type.
    pub key: String,
    /// The labels shown to people.
    pub labels: Labels,
    /// The permissions as declared, without implications.
    pub declared_permissions: Vec<Permission>,
    /// The permissions with their implications; what the ability engine uses.
    pub permissions: Vec<Permission>,
    /// The membership kind.
    pub kind: RoleKind,
    /// Whether holders are visible to `*_and_below_*` users of upper layers.
    pub is_visible_from_above: bool,
    /// Whether holders may end the role themselves.
    pub is_terminatable: bool,
}

impl RoleType {
    /// Whether the role grants `perm` (after implications).
    pub fn has(&self, perm: Permission) -> bool {
        self.permissions.contains(&perm)
    }

    /// A role is "capable" when its type is not restricted and grants at
    /// least one permission (hitobito's capable roles, used by the
    /// `update_email` rule).
    pub fn is_capable(&self) -> bool {
        self.kind != RoleKind::Restricted && !self.permissions.is_empty()
    }

    /// Whether the role grants a write permission (`layer_and_below_full`,
    /// `layer_full`, `group_and_below_full` or `group_full`), so that its
    /// holder must never remove it themselves.
    ///
    /// hitobito protects only three of the four; `group_and_below_full` is
    /// added because removing it locks its holder out just the same, and
    /// the foundation issue asks that no permission-giving role be
    /// removable by its holder.
    pub fn is_self_protected(&self) -> bool {
        [
            Permission::LayerAndBelowFull,
            Permission::LayerFull,
            Permission::GroupAndBelowFull,
            Permission::GroupFull,
        ]
        .iter()
        .any(|p| self.declared_permissions.contains(p))
    }
}

/// One group type, such as `Club`.
#[derive(Clone, Debug, Serialize)]
pub struct GroupType {
    /// The key stored in `groups.type`.
    pub key: String,
    /// The labels shown to people.
    pub labels: Labels,
    /// Whether a group of this type starts its own layer.
    pub is_layer: bool,
    /// Group types that may be created directly below.
    pub children: Vec<String>,
    /// Group types created automatically with a new group of this type.
    pub default_children: Vec<String>,
    /// Event types that may be attached to groups of this type.
    pub event_types: Vec<String>,
    /// The role type preselected in forms and imports.
    pub standard_role: Option<String>,
    /// Whether name and short name always equal the type label.
    pub is_static_name: bool,
    /// Role type keys allowed in groups of this type, in display order.
    pub role_types: Vec<String>,
    /// Position in the topological order from the root; sorts group lists.
    pub order_weight: usize,
}

/// A loaded, validated organisation definition.
#[derive(Clone, Debug)]
pub struct Organisation {
    /// The organisation's name, shown in the page header.
    pub name: String,
    /// The languages the organisation works in; the first is the default.
    pub languages: Vec<String>,
    /// The event types known to this organisation.
    pub event_types: Vec<String>,
    root: usize,
    group_types: Vec<GroupType>,
    group_index: HashMap<String, usize>,
    role_types: Vec<RoleType>,
    role_index: HashMap<String, usize>,
}

/// A mistake in an organisation definition file.
#[derive(Debug, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct OrgError {
    /// The file as given to the loader.
    pub file: String,
    /// The 1-based line of the mistake (0 when not known).
    pub line: usize,
    /// What is wrong, in words.
    pub message: String,
}

impl Organisation {
    /// Reads and validates a definition file.
    ///
    /// # Errors
    /// An [`OrgError`] naming the file and line for an unreadable file, bad
    /// TOML, a duplicate key, an unknown permission, group type, role type,
    /// role kind or event type, a default child that is not an allowed
    /// child, a type the root cannot reach, a cycle among default
    /// children, or a static-name type listed twice among one type's
    /// default children.
    pub fn from_file(path: &Path) -> Result<Organisation, OrgError> {
        let name = path.display().to_string();
        let src = std::fs::read_to_string(path).map_err(|e| OrgError {
            file: name.clone(),
            line: 0,
            message: format!("cannot read the organisation definition: {e}"),
        })?;
        Organisation::from_toml(&src, &name)
    }

    /// Parses and validates a definition from TOML text; `file` names it in
    /// errors.
    ///
    /// # Errors
    /// As for [`Organisation::from_file`].
    pub fn from_toml(src: &str, file: &str) -> Result<Organisation, OrgError> {
        let raw: RawFile = toml::from_str(src).map_err(|e| OrgError {
            file: file.to_owned(),
            line: e.span().map(|s| line_of(src, s.start)).unwrap_or(0),
            message: e.message().to_owned(),
        })?;
        Builder { src, file }.build(raw)
    }

    /// The root group type; exactly one group of it exists.
    pub fn root_type(&self) -> &GroupType {
        &self.group_types[self.root]
    }

    /// All group types, in topological order from the root.
    pub fn group_types(&self) -> &[GroupType] {
        &self.group_types
    }

    /// All role types, in the order of their group types (declaration
    /// order within one type), the global role types last.
    pub fn role_types(&self) -> &[RoleType] {
        &self.role_types
    }

    /// The group type with this key.
    pub fn group_type(&self, key: &str) -> Option<&GroupType> {
        self.group_index.get(key).map(|&i| &self.group_types[i])
    }

    /// The role type with this key.
    pub fn role_type(&self, key: &str) -> Option<&RoleType> {
        self.role_index.get(key).map(|&i| &self.role_types[i])
    }

    /// Whether a group of type `child` may be created below one of `parent`.
    pub fn is_child_allowed(&self, parent: &str, child: &str) -> bool {
        self.group_type(parent)
            .is_some_and(|p| p.children.iter().any(|c| c == child))
    }

    /// Whether role type `role` may be given in groups of type `group_type`.
    pub fn is_role_allowed(&self, group_type: &str, role: &str) -> bool {
        self.group_type(group_type)
            .is_some_and(|g| g.role_types.iter().any(|r| r == role))
    }

    /// The role types of a group type, in display order.
    pub fn role_types_of<'a>(&'a self, group_type: &str) -> impl Iterator<Item = &'a RoleType> {
        self.group_type(group_type)
            .into_iter()
            .flat_map(|g| g.role_types.iter())
            .filter_map(|k| self.role_type(k))
    }

    /// Keys of all role types of the given kinds; used to filter people lists.
    pub fn role_keys_of_kinds(&self, kinds: &[RoleKind]) -> Vec<String> {
        self.role_types
            .iter()
            .filter(|r| kinds.contains(&r.kind))
            .map(|r| r.key.clone())
            .collect()
    }

    /// Keys of all role types whose holders are visible from above.
    pub fn visible_from_above_keys(&self) -> Vec<String> {
        self.role_types
            .iter()
            .filter(|r| r.is_visible_from_above)
            .map(|r| r.key.clone())
            .collect()
    }

    /// Keys of all role types that grant `perm` (after implications).
    pub fn role_keys_with(&self, perm: Permission) -> Vec<String> {
        self.role_types
            .iter()
            .filter(|r| r.has(perm))
            .map(|r| r.key.clone())
            .collect()
    }

    /// The default language, used where a person has none.
    pub fn default_language(&self) -> &str {
        self.languages.first().map(String::as_str).unwrap_or("en")
    }
}

// The file's shape. Every name that refers to another entry is `Spanned`,
// so validation can point at the line where it was written.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    organisation: RawOrganisation,
    group_types: BTreeMap<Spanned<String>, RawGroupType>,
    #[serde(default)]
    global_role_types: Vec<RawRoleType>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOrganisation {
    name: String,
    root: Spanned<String>,
    #[serde(default)]
    languages: Vec<String>,
    #[serde(default)]
    event_types: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGroupType {
    #[serde(default)]
    label: Labels,
    #[serde(default)]
    layer: bool,
    #[serde(default)]
    global: bool,
    #[serde(default)]
    children: Vec<Spanned<String>>,
    #[serde(default)]
    default_children: Vec<Spanned<String>>,
    event_types: Option<Vec<Spanned<String>>>,
    standard_role: Option<Spanned<String>>,
    #[serde(default)]
    static_name: bool,
    #[serde(default)]
    roles: Vec<RawRoleType>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRoleType {
    key: Spanned<String>,
    #[serde(default)]
    label: Labels,
    #[serde(default)]
    permissions: Vec<Spanned<String>>,
    kind: Option<Spanned<String>>,
    visible_from_above: Option<bool>,
    #[serde(default)]
    terminatable: bool,
}

struct Builder<'a> {
    src: &'a str,
    file: &'a str,
}

impl Builder<'_> {
    fn err<T>(&self, span: std::ops::Range<usize>, message: String) -> Result<T, OrgError> {
        Err(OrgError {
            file: self.file.to_owned(),
            line: line_of(self.src, span.start),
            message,
        })
    }

    fn build(&self, raw: RawFile) -> Result<Organisation, OrgError> {
        let known: HashSet<&str> = raw
            .group_types
            .keys()
            .map(|k| k.get_ref().as_str())
            .collect();
        let mut event_types: Vec<String> = CORE_EVENT_TYPES.iter().map(|s| s.to_string()).collect();
        event_types.extend(raw.organisation.event_types.iter().cloned());

        let root = raw.organisation.root.get_ref().as_str();
        if !known.contains(root) {
            return self.err(
                raw.organisation.root.span(),
                format!("unknown root group type `{root}`"),
            );
        }
        // The root starts the first layer: every group needs a layer, and a
        // root that is not one would leave the whole tree without.
        if raw
            .group_types
            .iter()
            .any(|(k, g)| k.get_ref() == root && !g.layer)
        {
            return self.err(
                raw.organisation.root.span(),
                format!("root group type `{root}` must be a layer (`layer = true`)"),
            );
        }
        let globals: Vec<String> = raw
            .group_types
            .iter()
            .filter(|(_, g)| g.global)
            .map(|(k, _)| k.get_ref().clone())
            .collect();

        let global_roles = self.role_types(None, &raw.global_role_types)?;
        let mut role_types = global_roles.clone();
        let mut group_types = Vec::new();
        for (key, g) in &raw.group_types {
            let (gt, roles) =
                self.group_type(key, g, &known, &globals, &event_types, &global_roles)?;
            role_types.extend(roles);
            group_types.push(gt);
        }
        self.check_unique_roles(&raw, &role_types)?;
        self.check_static_defaults_once(&raw)?;
        let group_types = self.sort_from_root(&raw, root, group_types)?;
        self.check_default_children_acyclic(&raw, &group_types)?;
        sort_roles_by_group_order(&mut role_types, &group_types);

        let group_index = group_types
            .iter()
            .enumerate()
            .map(|(i, g)| (g.key.clone(), i))
            .collect();
        let role_index = role_types
            .iter()
            .enumerate()
            .map(|(i, r)| (r.key.clone(), i))
            .collect();
        let mut languages = raw.organisation.languages.clone();
        if languages.is_empty() {
            languages.push("en".to_owned());
        }
        Ok(Organisation {
            name: raw.organisation.name,
            languages,
            event_types,
            root: 0,
            group_types,
            group_index,
            role_types,
            role_index,
        })
    }

    fn group_type(
        &self,
        key: &Spanned<String>,
        g: &RawGroupType,
        known: &HashSet<&str>,
        globals: &[String],
        event_types: &[String],
        global_roles: &[RoleType],
    ) -> Result<(GroupType, Vec<RoleType>), OrgError> {
        let name = key.get_ref();
        let named = g
            .children
            .iter()
            .map(|c| (c, "child type"))
            .chain(g.default_children.iter().map(|c| (c, "default child type")));
        for (child, what) in named {
            if !known.contains(child.get_ref().as_str()) {
                let msg = format!(
                    "group type `{name}` names unknown {what} `{}`",
                    child.get_ref()
                );
                return self.err(child.span(), msg);
            }
        }
        let mut children: Vec<String> = g.children.iter().map(|c| c.get_ref().clone()).collect();
        if g.layer {
            for global in globals {
                if !children.contains(global) {
                    children.push(global.clone());
                }
            }
        }
        for dc in &g.default_children {
            if !children.contains(dc.get_ref()) {
                let msg = format!(
                    "default child `{}` of `{name}` is not among its allowed children",
                    dc.get_ref()
                );
                return self.err(dc.span(), msg);
            }
        }
        let events = match &g.event_types {
            Some(list) => {
                for e in list {
                    if !event_types.contains(e.get_ref()) {
                        let msg = format!(
                            "group type `{name}` names unknown event type `{}`",
                            e.get_ref()
                        );
                        return self.err(e.span(), msg);
                    }
                }
                list.iter().map(|e| e.get_ref().clone()).collect()
            }
            None => vec!["Event".to_owned()],
        };
        let roles = self.role_types(Some(name), &g.roles)?;
        let mut role_keys: Vec<String> = roles.iter().map(|r| r.key.clone()).collect();
        role_keys.extend(global_roles.iter().map(|r| r.key.clone()));
        let standard_role = match &g.standard_role {
            Some(s) => {
                let full = format!("{name}.{}", s.get_ref());
                if !role_keys.contains(&full) && !role_keys.contains(s.get_ref()) {
                    let msg = format!("standard role `{}` is not a role of `{name}`", s.get_ref());
                    return self.err(s.span(), msg);
                }
                Some(if role_keys.contains(&full) {
                    full
                } else {
                    s.get_ref().clone()
                })
            }
            None => None,
        };
        let mut labels = g.label.clone();
        if labels.0.is_empty() {
            labels.0.insert("en".to_owned(), name.clone());
        }
        let gt = GroupType {
            key: name.clone(),
            labels,
            is_layer: g.layer,
            children,
            default_children: g
                .default_children
                .iter()
                .map(|c| c.get_ref().clone())
                .collect(),
            event_types: events,
            standard_role,
            is_static_name: g.static_name,
            role_types: role_keys,
            order_weight: 0,
        };
        Ok((gt, roles))
    }

    fn role_types(
        &self,
        group: Option<&str>,
        raw: &[RawRoleType],
    ) -> Result<Vec<RoleType>, OrgError> {
        let mut out = Vec::new();
        for r in raw {
            let short = r.key.get_ref();
            if short.is_empty() || short.contains('.') {
                return self.err(
                    r.key.span(),
                    format!("role key `{short}` must be a plain name"),
                );
            }
            let mut declared = Vec::new();
            for p in &r.permissions {
                match p.get_ref().parse::<Permission>() {
                    Ok(perm) => declared.push(perm),
                    Err(e) => {
                        let all: Vec<&str> = Permission::ALL.iter().map(|p| p.as_str()).collect();
                        return self.err(p.span(), format!("{e}; known: {}", all.join(", ")));
                    }
                }
            }
            let kind = match &r.kind {
                None => RoleKind::Member,
                Some(k) => match k.get_ref().as_str() {
                    "member" => RoleKind::Member,
                    "passive" => RoleKind::Passive,
                    "external" => RoleKind::External,
                    "restricted" => RoleKind::Restricted,
                    other => {
                        let msg = format!(
                            "unknown role kind `{other}`; known: member, passive, external, restricted"
                        );
                        return self.err(k.span(), msg);
                    }
                },
            };
            let mut labels = r.label.clone();
            if labels.0.is_empty() {
                labels.0.insert("en".to_owned(), short.clone());
            }
            out.push(RoleType {
                key: group.map_or_else(|| short.clone(), |g| format!("{g}.{short}")),
                labels,
                permissions: with_implications(&declared),
                declared_permissions: declared,
                kind,
                is_visible_from_above: r.visible_from_above.unwrap_or(true),
                is_terminatable: r.terminatable,
            });
        }
        Ok(out)
    }

    fn check_unique_roles(&self, raw: &RawFile, roles: &[RoleType]) -> Result<(), OrgError> {
        let mut seen = HashSet::new();
        let spans = raw.global_role_types.iter().map(|r| r.key.span()).chain(
            raw.group_types
                .values()
                .flat_map(|g| g.roles.iter().map(|r| r.key.span())),
        );
        for (role, span) in roles.iter().zip(spans) {
            if !seen.insert(role.key.as_str()) {
                return self.err(span, format!("duplicate role type `{}`", role.key));
            }
        }
        Ok(())
    }

    /// A parent has at most one child of a static-name type, so such a type
    /// may appear only once among a type's default children.
    fn check_static_defaults_once(&self, raw: &RawFile) -> Result<(), OrgError> {
        let is_static = |key: &str| {
            raw.group_types
                .iter()
                .any(|(k, g)| k.get_ref() == key && g.static_name)
        };
        for (key, g) in &raw.group_types {
            let mut seen = HashSet::new();
            for child in &g.default_children {
                let c = child.get_ref().as_str();
                if !seen.insert(c) && is_static(c) {
                    let msg = format!(
                        "default child `{c}` of `{}` is listed twice, but its name is fixed \
                         and a parent holds only one of it",
                        key.get_ref()
                    );
                    return self.err(child.span(), msg);
                }
            }
        }
        Ok(())
    }

    /// Orders the group types breadth-first from the root, which gives
    /// `order_weight`. A type the root cannot reach is a mistake.
    fn sort_from_root(
        &self,
        raw: &RawFile,
        root: &str,
        types: Vec<GroupType>,
    ) -> Result<Vec<GroupType>, OrgError> {
        let mut by_key: HashMap<String, GroupType> =
            types.into_iter().map(|g| (g.key.clone(), g)).collect();
        let mut order = vec![root.to_owned()];
        let mut i = 0;
        while i < order.len() {
            if let Some(g) = by_key.get(&order[i]) {
                for c in &g.children {
                    if !order.contains(c) {
                        order.push(c.clone());
                    }
                }
            }
            i += 1;
        }
        if let Some((key, _)) = raw
            .group_types
            .iter()
            .find(|(k, _)| !order.contains(k.get_ref()))
        {
            let msg = format!(
                "group type `{}` cannot be reached from the root `{root}`",
                key.get_ref()
            );
            return self.err(key.span(), msg);
        }
        let mut sorted = Vec::with_capacity(order.len());
        for (weight, key) in order.iter().enumerate() {
            if let Some(mut g) = by_key.remove(key) {
                g.order_weight = weight;
                sorted.push(g);
            }
        }
        Ok(sorted)
    }

    /// Default children are created recursively, so a cycle among them would
    /// never end. A depth-first walk from each type, the root first, finds
    /// one and names the entry that closes it.
    fn check_default_children_acyclic(
        &self,
        raw: &RawFile,
        types: &[GroupType],
    ) -> Result<(), OrgError> {
        let defaults: HashMap<&str, &[Spanned<String>]> = raw
            .group_types
            .iter()
            .map(|(k, g)| (k.get_ref().as_str(), g.default_children.as_slice()))
            .collect();
        let mut done = HashSet::new();
        for g in types {
            if let Some((&key, _)) = defaults.get_key_value(g.key.as_str()) {
                self.walk_defaults(&defaults, key, &mut vec![key], &mut done)?;
            }
        }
        Ok(())
    }

    fn walk_defaults<'r>(
        &self,
        defaults: &HashMap<&'r str, &'r [Spanned<String>]>,
        current: &'r str,
        path: &mut Vec<&'r str>,
        done: &mut HashSet<&'r str>,
    ) -> Result<(), OrgError> {
        if done.contains(current) {
            return Ok(());
        }
        for child in defaults.get(current).copied().unwrap_or_default() {
            let c = child.get_ref().as_str();
            if let Some(start) = path.iter().position(|p| *p == c) {
                let mut cycle = path[start..].to_vec();
                cycle.push(c);
                let msg = format!("default children form a cycle: {}", cycle.join(" -> "));
                return self.err(child.span(), msg);
            }
            path.push(c);
            self.walk_defaults(defaults, c, path, done)?;
            path.pop();
        }
        done.insert(current);
        Ok(())
    }
}

/// Puts role types in the order of their group types (declaration order
/// within one type), with the global role types last, as
/// [`Organisation::role_types`] promises.
fn sort_roles_by_group_order(roles: &mut [RoleType], types: &[GroupType]) {
    let weight: HashMap<&str, usize> = types
        .iter()
        .map(|g| (g.key.as_str(), g.order_weight))
        .collect();
    roles.sort_by_key(|r| {
        r.key
            .split_once('.')
            .and_then(|(g, _)| weight.get(g).copied())
            .unwrap_or(usize::MAX)
    });
}

fn line_of(src: &str, offset: usize) -> usize {
    src.get(..offset).map_or(0, |s| s.matches('\n').count() + 1)
}

impl fmt::Display for RoleKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where the definition file `value` (`HIT_ORG`) is: a relative path is
/// looked up in the current folder first, then in the workspace these
/// crates were built from, so `cargo run` works from either. The result is
/// absolute when the file was found, so a start-up log shows which file
/// was taken.
pub fn resolve_definition_path(value: &str) -> std::path::PathBuf {
    let path = std::path::PathBuf::from(value);
    if path.is_absolute() {
        return path;
    }
    if path.exists() {
        return std::path::absolute(&path).unwrap_or(path);
    }
    let workspace = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(&path);
    workspace.canonicalize().unwrap_or(path)
}

#[cfg(test)]
mod tests;
