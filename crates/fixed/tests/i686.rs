//! `fixed` built for i686: MAP_FIXED_NOREPLACE puts the page at 0x40000,
//! below the program at 0x08048000; page 0 is mapped or refused exactly
//! as for the x86-64 twin run by the same user.

use procfs::i686::*;
use procfs::testing::*;

#[test]
fn i386_fixed_places_the_page_and_page_zero_as_the_x86_64_twin() {
    let Some(dir) = demos_for_test() else { return };
    let twin = x86_64_demos_for_test(&["fixed"]).join("fixed");
    let x86_64 = walk_ok(twin.to_str().unwrap(), &["-q"], 2);
    let w = walk_ok_how(&dir, "fixed", &["-q"], 2, Default::default());
    assert_eq!(
        w.stdout, x86_64.stdout,
        "the same outcome for the same user"
    );
    let page = w.stops[0].containing(0x40000).expect("the page at 0x40000");
    assert_eq!(
        (page.start, page.size(), page.perms.as_str()),
        (0x40000, 4096, "rw-p")
    );
    let zero = w.stops[1].containing(0);
    assert_eq!(
        zero.is_some(),
        w.stdout.contains("page_zero mapped"),
        "{}",
        w.stdout
    );
}
