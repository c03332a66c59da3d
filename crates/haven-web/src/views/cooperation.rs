//! A cooperation request as a line of a list: its status today, when it was sent and when it falls due. The
//! cooperation pages and the victim case page show them.

use haven_domain::cooperation::Status;
use haven_store::cooperation::RequestRow;

use crate::page::display;

/// A request as a line of a list.
pub struct Line {
    pub r: RequestRow,
    pub status: &'static str,
    pub sent: String,
    pub due: String,
}

pub fn line(r: RequestRow, today: time::Date) -> Line {
    let status = r.status(today).code();
    let (sent, due) = (display(&r.sent_on), display(&r.due_on));
    Line { r, status, sent, due }
}

impl Line {
    pub fn overdue(&self) -> bool {
        self.status == Status::Overdue.code()
    }
}
