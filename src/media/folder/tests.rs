//! The audio folder as untrusted ground, tried with links, hard links,
//! special files and modes.

use super::*;
use std::os::unix::fs::symlink;

fn setup() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("audio");
    let outside = dir.path().join("state");
    std::fs::create_dir_all(root.join("dai-hoi")).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(root.join("dai-hoi/a.mp3"), b"audio").unwrap();
    std::fs::write(outside.join("loa.db"), b"secret").unwrap();
    (dir, root, outside)
}

#[test]
fn links_are_never_followed() {
    let (_d, root, outside) = setup();
    symlink(&outside, root.join("st")).unwrap();
    symlink(outside.join("loa.db"), root.join("pw.mp3")).unwrap();
    symlink(&root, root.join("loop")).unwrap();
    std::fs::hard_link(outside.join("loa.db"), root.join("hard.mp3")).unwrap();
    assert!(matches!(
        open_file(&root, Path::new("st/loa.db")),
        Err(OpenError::Link)
    ));
    assert!(matches!(
        open_file(&root, Path::new("pw.mp3")),
        Err(OpenError::Link)
    ));
    assert!(matches!(
        open_file(&root, Path::new("hard.mp3")),
        Err(OpenError::HardLink(2))
    ));
    assert!(matches!(
        open_file(&root, Path::new("../state/loa.db")),
        Err(OpenError::Outside)
    ));
    let mut s = String::new();
    open_file(&root, Path::new("dai-hoi/a.mp3"))
        .unwrap()
        .read_to_string(&mut s)
        .unwrap();
    assert_eq!(s, "audio");
    let (files, odd) = walk(&root, &|_, _| false).unwrap();
    assert_eq!(
        files.iter().map(|f| f.rel.as_str()).collect::<Vec<_>>(),
        ["dai-hoi/a.mp3"]
    );
    let odd: Vec<(&str, &OddKind)> = odd.iter().map(|o| (o.rel.as_str(), &o.what)).collect();
    assert_eq!(odd.len(), 4, "{odd:?}");
    assert!(matches!(odd[0], ("hard.mp3", OddKind::HardLink(2))));
    assert!(matches!(odd[1], ("loop", OddKind::Symlink(_))));
    assert!(matches!(odd[3], ("st", OddKind::Symlink(_))));
    // Moving or writing through a linked folder is refused, and the
    // state folder keeps its file.
    assert!(rename(&root, Path::new("st/loa.db"), Path::new("rejected/x")).is_err());
    assert!(write_atomically(&root, Path::new("st/note.txt"), b"x").is_err());
    assert!(outside.join("loa.db").exists() && !outside.join("note.txt").exists());
    // A link named like the temporary file is replaced, not written
    // through.
    write_atomically(&root, Path::new("dai-hoi/n.txt"), b"note").unwrap();
    assert_eq!(std::fs::read(root.join("dai-hoi/n.txt")).unwrap(), b"note");
}

#[test]
fn a_pipe_is_refused_without_blocking() {
    let (_d, root, _) = setup();
    rustix::fs::mknodat(
        rustix::fs::CWD,
        root.join("p.mp3"),
        FileType::Fifo,
        Mode::from_raw_mode(0o600),
        0,
    )
    .unwrap();
    assert!(matches!(
        open_file(&root, Path::new("p.mp3")),
        Err(OpenError::NotRegular(Kind::Fifo))
    ));
    assert!(matches!(
        open_given(&root.join("p.mp3")),
        Err(OpenError::NotRegular(Kind::Fifo))
    ));
    assert!(matches!(
        open_given(Path::new("/dev/zero")),
        Err(OpenError::NotRegular(Kind::CharDevice))
    ));
}

#[test]
fn share_makes_uploads_group_writable_and_folders_setgid() {
    use std::os::unix::fs::PermissionsExt;
    let (_d, root, _) = setup();
    let perm =
        |p: &Path, m: u32| std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap();
    perm(&root.join("dai-hoi"), 0o755);
    perm(&root.join("dai-hoi/a.mp3"), 0o644);
    assert!(share(&root, Path::new("dai-hoi/a.mp3")).is_empty());
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode(&root.join("dai-hoi")), 0o2775);
    assert_eq!(mode(&root.join("dai-hoi/a.mp3")), 0o664);
}
