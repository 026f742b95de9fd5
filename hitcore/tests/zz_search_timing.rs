//! TEMPORARY timing probe for the search (deleted after measuring).
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use hitcore::Organisation;
use hitcore::ability::{Actor, search_scope};
use hitcore::group::GroupTree;
use hitcore::store::{GroupScope, ListFilter, PeopleQuery, SearchQuery};

#[test]
#[ignore]
fn probe() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/demo-federation.toml");
    let org = Arc::new(Organisation::from_file(&path).expect("org"));
    let url = std::env::var("PROBE_URL").expect("PROBE_URL");
    let s = hitcore::store::open(&url, org.clone()).expect("open");
    let today = chrono::Utc::now().date_naive();
    let tree = GroupTree::new(s.all_groups().expect("groups"));
    let club = tree.iter().find(|g| g.group_type == "Club").expect("club").clone();
    let q = PeopleQuery { scope: GroupScope::Group(club.id), filter: ListFilter::All, role_types: Some(vec!["Club.ClubLeader".into()]), text: None, today, page: 1, per_page: 5 };
    let leader = s.people_list(&q).expect("list").items.into_iter().next().expect("leader").person;
    let roles = s.roles_of_person(leader.id).expect("roles");
    let leader_actor = Actor::new(leader.id, false, &roles, &tree, &org, today);
    let root = Actor { person_id: leader.id, is_root: true, grants: vec![], has_role: true };
    for (who, actor) in [("root", &root), ("club leader", &leader_actor)] {
        for text in ["mü", "mar", "müller", "Zürich", "Anna Meier", "ma st", "xqzw"] {
            let query = SearchQuery { text: text.into(), scope: search_scope(actor, &org), today, limit: 10 };
            let mut times = Vec::new();
            let mut n = 0;
            for _ in 0..30 {
                let t = Instant::now();
                n = s.search_people(&query).expect("people").len();
                let _ = s.search_groups(&query).expect("groups");
                times.push(t.elapsed().as_secs_f64() * 1000.0);
            }
            times.sort_by(|a, b| a.partial_cmp(b).expect("num"));
            if text == "Anna Meier" { for p in s.search_people(&query).expect("p") { println!("   {} {:?} {:?} {:?} cdv={}", p.display_name(), p.email, p.address.town, p.primary_group_id, p.contact_data_visible); } println!("leader {:?}", leader.id); }
            println!("{who:12} {text:12} hits {n:3}  p50 {:7.2} ms  p95 {:7.2} ms", times[15], times[28]);
        }
    }
}
