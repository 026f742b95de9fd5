//! The sixteen role permissions and how they imply each other.
//!
//! Spelling follows hitobito, so organisation definitions and migrated data
//! keep their vocabulary. What each permission allows is decided in
//! [`crate::ability`]; this module only names them.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A permission a role type grants where the role sits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    Admin,
    LayerAndBelowFull,
    LayerAndBelowRead,
    LayerFull,
    LayerRead,
    GroupAndBelowFull,
    GroupAndBelowRead,
    GroupFull,
    GroupRead,
    ContactData,
    ApproveApplications,
    Finance,
    LayerAndBelowFinance,
    Impersonation,
    SeeInvisibleFromAbove,
    ManualDeletion,
}

impl Permission {
    /// Every permission, in the order the domain description lists them.
    pub const ALL: [Permission; 16] = [
        Permission::Admin,
        Permission::LayerAndBelowFull,
        Permission::LayerAndBelowRead,
        Permission::LayerFull,
        Permission::LayerRead,
        Permission::GroupAndBelowFull,
        Permission::GroupAndBelowRead,
        Permission::GroupFull,
        Permission::GroupRead,
        Permission::ContactData,
        Permission::ApproveApplications,
        Permission::Finance,
        Permission::LayerAndBelowFinance,
        Permission::Impersonation,
        Permission::SeeInvisibleFromAbove,
        Permission::ManualDeletion,
    ];

    /// The permission this one implies for the same groups, if any.
    ///
    /// Only the four `*_full` permissions imply their `*_read` sibling; there
    /// are no other implications (hitobito's `PermissionImplications`).
    pub fn implied(self) -> Option<Permission> {
        match self {
            Permission::LayerAndBelowFull => Some(Permission::LayerAndBelowRead),
            Permission::LayerFull => Some(Permission::LayerRead),
            Permission::GroupAndBelowFull => Some(Permission::GroupAndBelowRead),
            Permission::GroupFull => Some(Permission::GroupRead),
            _ => None,
        }
    }

    /// The permission as spelled in definition files and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Permission::Admin => "admin",
            Permission::LayerAndBelowFull => "layer_and_below_full",
            Permission::LayerAndBelowRead => "layer_and_below_read",
            Permission::LayerFull => "layer_full",
            Permission::LayerRead => "layer_read",
            Permission::GroupAndBelowFull => "group_and_below_full",
            Permission::GroupAndBelowRead => "group_and_below_read",
            Permission::GroupFull => "group_full",
            Permission::GroupRead => "group_read",
            Permission::ContactData => "contact_data",
            Permission::ApproveApplications => "approve_applications",
            Permission::Finance => "finance",
            Permission::LayerAndBelowFinance => "layer_and_below_finance",
            Permission::Impersonation => "impersonation",
            Permission::SeeInvisibleFromAbove => "see_invisible_from_above",
            Permission::ManualDeletion => "manual_deletion",
        }
    }

    /// Whether holding this permission lets the holder write (edit people,
    /// groups or roles) somewhere.
    pub fn is_write(self) -> bool {
        matches!(
            self,
            Permission::LayerAndBelowFull
                | Permission::LayerFull
                | Permission::GroupAndBelowFull
                | Permission::GroupFull
        )
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error for a permission name that is not one of the sixteen.
#[derive(Debug, thiserror::Error)]
#[error("unknown permission `{0}`")]
pub struct UnknownPermission(pub String);

impl FromStr for Permission {
    type Err = UnknownPermission;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Permission::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| UnknownPermission(s.to_owned()))
    }
}

/// Expands a role type's permissions with their implications.
pub fn with_implications(perms: &[Permission]) -> Vec<Permission> {
    let mut out: Vec<Permission> = perms.to_vec();
    for p in perms {
        if let Some(i) = p.implied() {
            out.push(i);
        }
    }
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for p in Permission::ALL {
            assert_eq!(p.as_str().parse::<Permission>().ok(), Some(p));
        }
    }

    #[test]
    fn full_implies_read_and_nothing_else() {
        let got = with_implications(&[Permission::LayerFull]);
        assert_eq!(got, vec![Permission::LayerFull, Permission::LayerRead]);
        let got = with_implications(&[Permission::LayerAndBelowRead]);
        assert_eq!(got, vec![Permission::LayerAndBelowRead]);
    }
}
