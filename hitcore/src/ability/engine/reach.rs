//! Where a grant reaches: the position codes of table 4.3, as questions
//! about one target group asked of one grant.
//!
//! The tree is a materialised path, so every question is a look at the
//! target's path and layer; nothing is looked up or allocated.

use crate::ability::{Because, Grant};
use crate::group::Group;
use crate::permission::Permission;

/// How far from its group G (in layer L) a grant reaches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Reach {
    /// Every group.
    Everywhere,
    /// G itself ("T=G").
    Group,
    /// G and its subgroups inside L ("G↓": positions G and Gb).
    GroupAndBelow,
    /// The subgroups of G inside L, without G itself.
    BelowGroup,
    /// Any group of L (positions G, Gb and Ls).
    Layer,
    /// Any group of L or of a layer below it ("L↓").
    LayerAndBelow,
}

impl Reach {
    /// Where a write permission lets its holder write: the group for
    /// `group_full`, and so on. `None` for permissions that write nothing.
    pub(super) fn of_write(permission: Permission) -> Option<Reach> {
        match permission {
            Permission::GroupFull => Some(Reach::Group),
            Permission::GroupAndBelowFull => Some(Reach::GroupAndBelow),
            Permission::LayerFull => Some(Reach::Layer),
            Permission::LayerAndBelowFull => Some(Reach::LayerAndBelow),
            _ => None,
        }
    }
}

impl Grant {
    /// Whether `target` lies within `reach` of this grant.
    pub(super) fn reaches(&self, reach: Reach, target: &Group) -> bool {
        let in_layer = target.layer_group_id == self.layer_group_id;
        match reach {
            Reach::Everywhere => true,
            Reach::Group => target.id == self.group_id,
            Reach::GroupAndBelow => in_layer && target.is_in_subtree_of(self.group_id),
            Reach::BelowGroup => {
                in_layer && target.id != self.group_id && target.is_in_subtree_of(self.group_id)
            }
            Reach::Layer => in_layer,
            Reach::LayerAndBelow => target.is_in_subtree_of(self.layer_group_id),
        }
    }

    /// Whether `target` lies in a layer strictly below this grant's layer.
    pub(super) fn reaches_below_layer(&self, target: &Group) -> bool {
        target.layer_group_id != self.layer_group_id && self.reaches(Reach::LayerAndBelow, target)
    }

    /// The reason to give when this grant allowed something.
    pub(super) fn because(&self) -> Because {
        Because::Permission {
            permission: self.permission,
            group_id: self.group_id,
        }
    }
}
