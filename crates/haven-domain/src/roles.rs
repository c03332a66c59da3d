//! Roles and the role x action permission matrix. This is the only place that says which role may do what;
//! handlers name the action they need in their signature and the web layer asks [`permits`].

use serde::{Deserialize, Serialize};

/// A role a user holds inside their agency.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    SystemAdmin,
    AgencyHead,
    CaseOfficer,
    DataClerk,
    /// Aggregates only, never identity.
    Analyst,
    /// The audit log only.
    Auditor,
}

impl Role {
    pub const ALL: [Role; 6] =
        [Role::SystemAdmin, Role::AgencyHead, Role::CaseOfficer, Role::DataClerk, Role::Analyst, Role::Auditor];

    /// The stable code stored in the database and used in translation keys.
    pub fn code(self) -> &'static str {
        match self {
            Role::SystemAdmin => "admin",
            Role::AgencyHead => "head",
            Role::CaseOfficer => "officer",
            Role::DataClerk => "clerk",
            Role::Analyst => "analyst",
            Role::Auditor => "auditor",
        }
    }

    pub fn from_code(code: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.code() == code)
    }
}

/// Something a user may try to do. Record-level access (which records) is decided separately in
/// [`crate::access`]; this says whether the role may attempt the action at all.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// List records in pseudonymous form.
    ViewRecords,
    /// See names, birth dates, ID numbers and other identity fields.
    ViewIdentity,
    CreateRecords,
    EditRecords,
    /// Share a record of one's own agency with another agency or user.
    GrantAccess,
    /// Open a record of another agency without a grant, with a written reason.
    BreakGlass,
    /// Review break-the-glass use and identity views in one's agency.
    SuperviseAgency,
    ViewAggregates,
    ViewAudit,
    ManageUsers,
    ManageAgencies,
    /// Set security policy (e.g. which roles must use a second factor).
    ManageSecurity,
    /// Share a victim's record without their consent, recording the legal basis.
    OverrideConsent,
    /// Publish the public statistics: a release cannot be taken back, and it binds every later release of
    /// its period, so only the analysts who prepare them do it.
    PublishStatistics,
}

impl Action {
    pub fn code(self) -> &'static str {
        match self {
            Action::ViewRecords => "view_records",
            Action::ViewIdentity => "view_identity",
            Action::CreateRecords => "create_records",
            Action::EditRecords => "edit_records",
            Action::GrantAccess => "grant_access",
            Action::BreakGlass => "break_glass",
            Action::SuperviseAgency => "supervise_agency",
            Action::ViewAggregates => "view_aggregates",
            Action::ViewAudit => "view_audit",
            Action::ManageUsers => "manage_users",
            Action::ManageAgencies => "manage_agencies",
            Action::ManageSecurity => "manage_security",
            Action::OverrideConsent => "override_consent",
            Action::PublishStatistics => "publish_statistics",
        }
    }
}

/// The permission matrix.
pub fn role_permits(role: Role, action: Action) -> bool {
    use Action::*;
    match role {
        // The administrator runs the system; they do not read case files.
        Role::SystemAdmin => matches!(action, ManageUsers | ManageAgencies | ManageSecurity | ViewAggregates),
        Role::AgencyHead => matches!(
            action,
            ViewRecords
                | ViewIdentity
                | CreateRecords
                | EditRecords
                | GrantAccess
                | BreakGlass
                | SuperviseAgency
                | ViewAggregates
                | OverrideConsent
        ),
        Role::CaseOfficer => {
            matches!(action, ViewRecords | ViewIdentity | CreateRecords | EditRecords | GrantAccess | BreakGlass)
        }
        // Clerks type in what arrives on paper; they do not browse identities afterwards.
        Role::DataClerk => matches!(action, ViewRecords | CreateRecords),
        Role::Analyst => matches!(action, ViewAggregates | PublishStatistics),
        Role::Auditor => matches!(action, ViewAudit),
    }
}

/// Whether any of the roles permits the action. An account that holds the administrator's role gets nothing
/// from a case role or the auditor's role beside it, even if one was stored by an older version or written
/// into the database by hand: separation of duties does not rest on the forms alone.
pub fn permits(roles: &[Role], action: Action) -> bool {
    let admin = roles.contains(&Role::SystemAdmin);
    roles.iter().filter(|r| !admin || r.fits_with_admin()).any(|r| role_permits(*r, action))
}

impl Role {
    /// Roles that open case files: their holders read identities or type them in, and may break the glass.
    pub fn is_case_role(self) -> bool {
        matches!(self, Role::AgencyHead | Role::CaseOfficer | Role::DataClerk)
    }

    /// Whether the role reads identities: giving it to an account waits for a second person's approval.
    pub fn reads_identity(self) -> bool {
        role_permits(self, Action::ViewIdentity)
    }

    /// Whether an administrator may hold it too: not a case role (the administrator does not read victims),
    /// and not the auditor's (no one audits their own administration).
    fn fits_with_admin(self) -> bool {
        !self.is_case_role() && self != Role::Auditor
    }
}

/// Why a set of roles cannot be held by one account.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RolesError {
    Empty,
    /// The system administrator with a case role or the auditor's role.
    AdminAndCaseWork,
}

impl RolesError {
    pub fn key(self) -> &'static str {
        match self {
            RolesError::Empty => "error.roles",
            RolesError::AdminAndCaseWork => "error.roles_admin_separate",
        }
    }
}

/// Check that one account may hold these roles together.
pub fn check_roles(roles: &[Role]) -> Result<(), RolesError> {
    if roles.is_empty() {
        return Err(RolesError::Empty);
    }
    if roles.contains(&Role::SystemAdmin) && roles.iter().any(|r| !r.fits_with_admin() && *r != Role::SystemAdmin) {
        return Err(RolesError::AdminAndCaseWork);
    }
    Ok(())
}

/// Whether changing an account's roles from `before` to `after` gives it a role that reads identities it did
/// not hold: such a change is a request until a second person (another administrator, or a head of the
/// account's agency) approves it.
pub fn needs_approval(before: &[Role], after: &[Role]) -> bool {
    after.iter().any(|r| r.reads_identity() && !before.contains(r))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for r in Role::ALL {
            assert_eq!(Role::from_code(r.code()), Some(r));
        }
        assert_eq!(Role::from_code("root"), None);
    }

    #[test]
    fn analyst_and_auditor_never_see_identity() {
        for a in [Role::Analyst, Role::Auditor, Role::SystemAdmin, Role::DataClerk] {
            assert!(!role_permits(a, Action::ViewIdentity), "{a:?}");
        }
        assert!(role_permits(Role::CaseOfficer, Action::ViewIdentity));
    }

    #[test]
    fn only_auditor_reads_audit_and_only_admin_manages_users() {
        for r in Role::ALL {
            assert_eq!(role_permits(r, Action::ViewAudit), r == Role::Auditor);
            assert_eq!(role_permits(r, Action::ManageUsers), r == Role::SystemAdmin);
        }
    }

    #[test]
    fn only_a_head_overrides_consent() {
        for r in Role::ALL {
            assert_eq!(role_permits(r, Action::OverrideConsent), r == Role::AgencyHead, "{r:?}");
            assert_eq!(role_permits(r, Action::PublishStatistics), r == Role::Analyst, "{r:?}");
        }
    }

    #[test]
    fn the_administrator_holds_no_case_role() {
        assert_eq!(check_roles(&[Role::SystemAdmin, Role::CaseOfficer]), Err(RolesError::AdminAndCaseWork));
        assert_eq!(check_roles(&[Role::SystemAdmin, Role::DataClerk]), Err(RolesError::AdminAndCaseWork));
        assert_eq!(check_roles(&[Role::SystemAdmin, Role::Auditor]), Err(RolesError::AdminAndCaseWork));
        assert_eq!(check_roles(&[Role::SystemAdmin, Role::Analyst]), Ok(()));
        assert_eq!(check_roles(&[Role::AgencyHead, Role::CaseOfficer]), Ok(()));
        assert_eq!(check_roles(&[]), Err(RolesError::Empty));
        // Stored anyway (by hand, or by an older version): the case role gives the administrator nothing.
        let held = [Role::SystemAdmin, Role::CaseOfficer, Role::Auditor];
        for a in [Action::ViewIdentity, Action::ViewRecords, Action::BreakGlass, Action::ViewAudit] {
            assert!(!permits(&held, a), "{a:?}");
        }
        assert!(permits(&held, Action::ManageUsers));
    }

    #[test]
    fn only_new_identity_roles_wait_for_approval() {
        assert!(needs_approval(&[Role::DataClerk], &[Role::DataClerk, Role::CaseOfficer]));
        assert!(needs_approval(&[], &[Role::AgencyHead]));
        assert!(!needs_approval(&[Role::CaseOfficer], &[Role::CaseOfficer, Role::Analyst]), "nothing new to read");
        assert!(!needs_approval(&[Role::CaseOfficer, Role::AgencyHead], &[Role::CaseOfficer]), "taking away");
        assert!(!needs_approval(&[], &[Role::DataClerk, Role::Analyst, Role::Auditor]));
    }

    #[test]
    fn several_roles_union() {
        assert!(!permits(&[], Action::ViewRecords));
        assert!(permits(&[Role::Auditor, Role::Analyst], Action::ViewAggregates));
        assert!(!permits(&[Role::Auditor, Role::Analyst], Action::ViewIdentity));
    }
}
