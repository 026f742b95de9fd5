//! The store contract for person pictures (`PersonRepo::person_picture`
//! and `set_person_picture`), on every store `common::stores()` yields.

mod common;

use hitcore::PersonId;
use hitcore::ability::{UpdatePerson, system};
use hitcore::picture::{PictureFormat, PictureRef};
use hitcore::store::StoreError;

use common::*;

fn picture(person: PersonId, version: &str, format: PictureFormat) -> PictureRef {
    PictureRef::new(person, version, format).expect("a valid picture")
}

#[test]
fn a_new_person_has_no_picture() {
    each_store(|w| {
        let p = w.person("Anna", "Amsler", &w.root_members, MEMBER);
        assert_eq!(w.s.person_picture(p.id).expect("read"), None);
    });
}

#[test]
fn a_picture_is_recorded_replaced_and_cleared() {
    each_store(|w| {
        let p = w.person("Anna", "Amsler", &w.root_members, MEMBER);
        let permit = system(UpdatePerson(p.id));
        let first = picture(p.id, "v1", PictureFormat::Jpeg);
        let second = picture(p.id, "v2", PictureFormat::Png);

        let replaced = w.s.set_person_picture(&permit, Some(&first), at(1));
        assert_eq!(replaced.expect("set"), None);
        assert_eq!(w.s.person_picture(p.id).expect("read"), Some(first.clone()));

        let replaced = w.s.set_person_picture(&permit, Some(&second), at(2));
        assert_eq!(replaced.expect("replaced"), Some(first));
        assert_eq!(
            w.s.person_picture(p.id).expect("read"),
            Some(second.clone())
        );

        let replaced = w.s.set_person_picture(&permit, None, at(3));
        assert_eq!(replaced.expect("cleared"), Some(second));
        assert_eq!(w.s.person_picture(p.id).expect("read"), None);
        assert_eq!(
            w.s.set_person_picture(&permit, None, at(4))
                .expect("cleared again"),
            None
        );
    });
}

#[test]
fn a_picture_change_is_a_change_of_the_person() {
    each_store(|w| {
        let p = w.person("Anna", "Amsler", &w.root_members, MEMBER);
        let permit = system(UpdatePerson(p.id));
        let pic = picture(p.id, "v1", PictureFormat::Jpeg);
        w.s.set_person_picture(&permit, Some(&pic), at(5))
            .expect("set");
        let now = w.person_now(&p);
        assert_eq!(now.updated_at, at(5));
        assert_eq!(
            now.first_name.as_deref(),
            Some("Anna"),
            "nothing else changes"
        );
    });
}

#[test]
fn pictures_belong_to_one_person_each() {
    each_store(|w| {
        let anna = w.person("Anna", "Amsler", &w.root_members, MEMBER);
        let bert = w.person("Bert", "Buri", &w.root_members, MEMBER);
        let pic = picture(anna.id, "v1", PictureFormat::Jpeg);
        w.s.set_person_picture(&system(UpdatePerson(anna.id)), Some(&pic), at(1))
            .expect("set");
        assert_eq!(w.s.person_picture(bert.id).expect("read"), None);
    });
}

#[test]
fn an_unknown_person_has_no_picture_and_gets_none() {
    each_store(|w| {
        let nobody = PersonId(987_654);
        assert_eq!(w.s.person_picture(nobody).expect("read"), None);
        let pic = picture(nobody, "v1", PictureFormat::Jpeg);
        let set =
            w.s.set_person_picture(&system(UpdatePerson(nobody)), Some(&pic), at(1));
        assert!(matches!(set, Err(StoreError::NotFound)), "{set:?}");
    });
}
