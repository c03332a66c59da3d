use super::*;
use crate::i18n::I18n;
use haven_domain::format::Lang;

#[test]
fn every_code_list_entry_is_translated() {
    let i = I18n::embedded();
    let roles: Vec<&str> = PersonRole::ALL.iter().map(|r| r.code()).collect();
    let lists: [(&str, &[&str]); 9] = [
        ("person_role", &roles),
        ("custody", &["arrested", "detained", "released"]),
        ("report_kind", KINDS),
        ("channel", CHANNELS),
        ("clock_event", CLOCK_EVENTS),
        ("ground", SUSPENSION_GROUNDS),
        ("decision", DECISIONS),
        ("standing", &["running", "due_soon", "overdue", "suspended", "settled"]),
        ("purpose", PURPOSES),
    ];
    for lang in [Lang::Vi, Lang::En] {
        for (list, codes) in lists {
            for code in codes {
                let key = format!("{list}.{code}");
                assert_ne!(i.get(lang, &key), key, "{key} in {lang:?}");
            }
        }
    }
    // The domain's own error keys too.
    for e in [
        intake::IntakeError::UnknownOffence,
        intake::IntakeError::ForwardedToMissing,
        intake::IntakeError::ReasonMissing,
        intake::IntakeError::NotClassified,
        intake::IntakeError::InFuture,
        intake::IntakeError::BeforeReceipt,
        intake::IntakeError::NotifiedBeforeDecision,
        intake::IntakeError::NumberMissing,
        intake::IntakeError::AlreadySettled,
        intake::IntakeError::ClockSuspended,
    ] {
        assert_ne!(i.get(Lang::En, e.key()), e.key());
    }
    use haven_domain::reports::clock::ClockError as C;
    for e in [
        C::BeforeReceipt,
        C::OutOfOrder,
        C::Suspended,
        C::NotSuspended,
        C::Expired,
        C::AlreadyComplex,
        C::NotComplex,
        C::ProcuracyAlreadyAsked,
        C::RequestTooLate,
        C::NoPendingRequest,
        C::MonthsOutOfRange,
    ] {
        assert_ne!(i.get(Lang::Vi, e.key()), e.key());
    }
}

#[test]
fn list_codes_read_back() {
    for l in List::ALL {
        assert_eq!(List::from_code(l.code()), Some(l));
    }
    assert_eq!(List::from_code("everything"), None);
}
