//! Event kinds, their categories and qualification kinds (section 5.5):
//! the catalogues administrators keep, and the links that say which
//! qualifications a course of a kind requires, issues or prolongs.
//!
//! Validation of the admin forms lives here; what a link means for one
//! participant is computed in [`super::qualification`].

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::id::{EventKindCategoryId, EventKindId, QualificationKindId};
use crate::validate::{Violations, clean, single_line};

/// A heading event kinds are grouped under in lists.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EventKindCategory {
    pub id: EventKindCategoryId,
    pub label: String,
    /// Lower comes first.
    pub order: i32,
}

/// The fields of a category form.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CategoryPatch {
    pub label: Option<String>,
    pub order: i32,
}

impl CategoryPatch {
    /// The patch with its label trimmed.
    ///
    /// # Errors
    /// `label` when blank, longer than 255 characters or not one line.
    pub fn validated(self) -> Result<CategoryPatch, Violations> {
        let mut v = Violations::default();
        let label = required_label(&mut v, self.label);
        v.into_result(CategoryPatch {
            label,
            order: self.order,
        })
    }
}

/// A kind of qualification people hold, e.g. "First aid".
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct QualificationKind {
    pub id: QualificationKindId,
    pub label: String,
    pub description: Option<String>,
    /// Years a qualification stays valid after the year it starts in;
    /// `None`: unlimited.
    pub validity: Option<u32>,
    /// Years after the end of validity during which a course still
    /// prolongs the qualification.
    pub reactivateable: Option<u32>,
    /// Training days needed within the validity window before a course
    /// issues or prolongs the qualification.
    pub required_training_days: Option<f64>,
    /// Set instead of deleting when qualifications or event kinds use it.
    pub deleted_at: Option<DateTime<Utc>>,
}

/// The fields of a qualification kind form.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct QualificationKindPatch {
    pub label: Option<String>,
    pub description: Option<String>,
    pub validity: Option<u32>,
    pub reactivateable: Option<u32>,
    pub required_training_days: Option<f64>,
}

impl QualificationKindPatch {
    /// The patch trimmed and checked against 5.5.
    ///
    /// # Errors
    /// `label` blank or over 255 characters; `description` over 1023;
    /// `reactivateable` below 1 or without a validity;
    /// `required_training_days` negative or not finite.
    pub fn validated(self) -> Result<QualificationKindPatch, Violations> {
        let mut v = Violations::default();
        let label = required_label(&mut v, self.label);
        let description = clean(self.description);
        if description
            .as_ref()
            .is_some_and(|d| d.chars().count() > 1023)
        {
            v.add("description", "errors.too_long");
        }
        if let Some(r) = self.reactivateable {
            if r < 1 {
                v.add("reactivateable", "errors.at_least_one");
            } else if self.validity.is_none() {
                v.add("reactivateable", "errors.needs_validity");
            }
        }
        if self
            .required_training_days
            .is_some_and(|d| !d.is_finite() || d < 0.0)
        {
            v.add("required_training_days", "errors.invalid");
        }
        v.into_result(QualificationKindPatch {
            label,
            description,
            ..self
        })
    }
}

/// What a link of an event kind to a qualification kind does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkCategory {
    /// Qualifying participants get the qualification.
    Qualification,
    /// Applicants should hold it already (a warning, never a block).
    Precondition,
    /// Qualifying participants who hold it, still reactivatable, get it
    /// prolonged.
    Prolongation,
}

/// Which participants a link is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkRole {
    Participant,
    Leader,
}

/// How valid a precondition qualification must be at the course start.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkValidity {
    /// Active on the course start.
    Valid,
    /// Active or still reactivatable on the course start.
    ValidOrReactivatable,
    /// Any qualification of the kind, expired or not.
    #[default]
    ValidOrExpired,
}

macro_rules! keyed_enum {
    ($t:ty { $($v:ident => $k:literal),+ $(,)? }) => {
        impl $t {
            /// Every value, in the order forms list them.
            pub const ALL: &'static [$t] = &[$(<$t>::$v),+];

            /// The stable name stored in the database and sent by forms.
            pub fn as_str(self) -> &'static str {
                match self { $(<$t>::$v => $k),+ }
            }

            /// The value stored as `key`, if any.
            pub fn parse(key: &str) -> Option<$t> {
                match key { $($k => Some(<$t>::$v),)+ _ => None }
            }
        }
    };
}

keyed_enum!(LinkCategory {
    Qualification => "qualification",
    Precondition => "precondition",
    Prolongation => "prolongation",
});
keyed_enum!(LinkRole {
    Participant => "participant",
    Leader => "leader",
});
keyed_enum!(LinkValidity {
    Valid => "valid",
    ValidOrReactivatable => "valid_or_reactivatable",
    ValidOrExpired => "valid_or_expired",
});

/// One link of an event kind to a qualification kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct KindQualification {
    pub qualification_kind_id: QualificationKindId,
    pub category: LinkCategory,
    pub role: LinkRole,
    /// Preconditions only: links with the same number form one set that
    /// is complete together; `None` counts as its own set (number 0).
    pub grouping: Option<u32>,
    /// Preconditions only.
    pub validity: LinkValidity,
}

/// A kind of course, e.g. "Basic leader course".
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EventKind {
    pub id: EventKindId,
    pub label: String,
    pub short_name: Option<String>,
    pub general_information: Option<String>,
    pub application_conditions: Option<String>,
    /// Age participants should reach by the end of the course start year.
    pub minimum_age: Option<u32>,
    pub kind_category_id: Option<EventKindCategoryId>,
    /// Ordered by qualification kind, category and role.
    pub qualifications: Vec<KindQualification>,
    /// Set instead of deleting when events use the kind.
    pub deleted_at: Option<DateTime<Utc>>,
}

impl EventKind {
    /// Whether courses of this kind issue or prolong qualifications.
    pub fn is_qualifying(&self) -> bool {
        self.qualifications
            .iter()
            .any(|q| q.category != LinkCategory::Precondition)
    }

    /// The label with the short name in front, as lists show it.
    pub fn display_label(&self) -> String {
        match &self.short_name {
            Some(s) => format!("{s} ({})", self.label),
            None => self.label.clone(),
        }
    }
}

/// The fields of an event kind form, with its links.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EventKindPatch {
    pub label: Option<String>,
    pub short_name: Option<String>,
    pub general_information: Option<String>,
    pub application_conditions: Option<String>,
    pub minimum_age: Option<u32>,
    pub kind_category_id: Option<EventKindCategoryId>,
    pub qualifications: Vec<KindQualification>,
}

impl EventKindPatch {
    /// The patch trimmed and checked; duplicate links are dropped, and
    /// grouping and validity kept for preconditions only.
    ///
    /// # Errors
    /// `label` blank or over 255 characters; `short_name` over 255 or not
    /// one line.
    pub fn validated(self) -> Result<EventKindPatch, Violations> {
        let mut v = Violations::default();
        let label = required_label(&mut v, self.label);
        let short_name = clean(self.short_name);
        single_line(&mut v, "short_name", &short_name, 255);
        let mut qualifications: Vec<KindQualification> = Vec::new();
        for mut q in self.qualifications {
            if q.category != LinkCategory::Precondition {
                q.grouping = None;
                q.validity = LinkValidity::default();
            }
            let same = |o: &KindQualification| {
                (o.qualification_kind_id, o.category, o.role)
                    == (q.qualification_kind_id, q.category, q.role)
            };
            if !qualifications.iter().any(same) {
                qualifications.push(q);
            }
        }
        qualifications.sort_by_key(|q| {
            (
                q.qualification_kind_id,
                q.category.as_str(),
                q.role.as_str(),
            )
        });
        v.into_result(EventKindPatch {
            label,
            short_name,
            general_information: clean(self.general_information),
            application_conditions: clean(self.application_conditions),
            qualifications,
            ..self
        })
    }
}

fn required_label(v: &mut Violations, label: Option<String>) -> Option<String> {
    let label = clean(label);
    if label.is_none() {
        v.add("label", "errors.required");
    }
    single_line(v, "label", &label, 255);
    label
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(kind: i64, category: LinkCategory) -> KindQualification {
        KindQualification {
            qualification_kind_id: QualificationKindId(kind),
            category,
            role: LinkRole::Participant,
            grouping: Some(2),
            validity: LinkValidity::Valid,
        }
    }

    #[test]
    fn kind_needs_a_label_and_drops_duplicate_links() {
        let e = EventKindPatch::default().validated().expect_err("no label");
        assert_eq!(e.for_field("label"), Some("errors.required"));

        let p = EventKindPatch {
            label: Some(" Basic ".into()),
            qualifications: vec![
                link(2, LinkCategory::Qualification),
                link(1, LinkCategory::Precondition),
                link(2, LinkCategory::Qualification),
            ],
            ..EventKindPatch::default()
        }
        .validated()
        .expect("valid");
        assert_eq!(p.label.as_deref(), Some("Basic"));
        assert_eq!(p.qualifications.len(), 2);
        // Grouping and validity mean something for preconditions only.
        assert_eq!(p.qualifications[0].grouping, Some(2));
        assert_eq!(p.qualifications[1].grouping, None);
        assert_eq!(p.qualifications[1].validity, LinkValidity::ValidOrExpired);
    }

    #[test]
    fn reactivateable_needs_a_validity_and_at_least_one_year() {
        let base = QualificationKindPatch {
            label: Some("First aid".into()),
            ..QualificationKindPatch::default()
        };
        let e = QualificationKindPatch {
            reactivateable: Some(2),
            ..base.clone()
        }
        .validated()
        .expect_err("no validity");
        assert_eq!(e.for_field("reactivateable"), Some("errors.needs_validity"));
        let e = QualificationKindPatch {
            validity: Some(2),
            reactivateable: Some(0),
            ..base.clone()
        }
        .validated()
        .expect_err("zero");
        assert_eq!(e.for_field("reactivateable"), Some("errors.at_least_one"));
        QualificationKindPatch {
            validity: Some(0),
            reactivateable: Some(1),
            ..base
        }
        .validated()
        .expect("validity 0 may be reactivated");
    }

    #[test]
    fn qualification_kind_limits_label_and_description() {
        let e = QualificationKindPatch {
            label: Some("x".repeat(256)),
            description: Some("d".repeat(1024)),
            required_training_days: Some(-1.0),
            ..QualificationKindPatch::default()
        }
        .validated()
        .expect_err("too long");
        assert_eq!(e.for_field("label"), Some("errors.too_long"));
        assert_eq!(e.for_field("description"), Some("errors.too_long"));
        assert_eq!(
            e.for_field("required_training_days"),
            Some("errors.invalid")
        );
    }

    #[test]
    fn keys_round_trip() {
        for c in LinkCategory::ALL {
            assert_eq!(LinkCategory::parse(c.as_str()), Some(*c));
        }
        for r in LinkRole::ALL {
            assert_eq!(LinkRole::parse(r.as_str()), Some(*r));
        }
        for v in LinkValidity::ALL {
            assert_eq!(LinkValidity::parse(v.as_str()), Some(*v));
        }
        assert_eq!(LinkRole::parse("cook"), None);
    }

    #[test]
    fn kinds_with_qualification_or_prolongation_links_are_qualifying() {
        let mut k = EventKind {
            id: EventKindId(1),
            label: "K".into(),
            short_name: Some("K1".into()),
            general_information: None,
            application_conditions: None,
            minimum_age: None,
            kind_category_id: None,
            qualifications: vec![link(1, LinkCategory::Precondition)],
            deleted_at: None,
        };
        assert!(!k.is_qualifying());
        k.qualifications.push(link(2, LinkCategory::Prolongation));
        assert!(k.is_qualifying());
        assert_eq!(k.display_label(), "K1 (K)");
    }
}
