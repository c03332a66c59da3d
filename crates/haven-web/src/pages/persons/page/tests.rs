use super::*;

#[test]
fn sizes_read_as_people_read_them() {
    assert_eq!(human_size(1), "1 KB");
    assert_eq!(human_size(340 * 1024), "340 KB");
    assert_eq!(human_size(3 * 1024 * 1024 / 2), "1.5 MB");
}
