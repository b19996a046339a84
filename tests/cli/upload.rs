//! Issue 10: uploads through the real upload path. A real OpenSSH sshd with
//! the shipped deploy/sshd/loa-upload.conf, real accounts (the SFTP-only
//! upload account, an operator, the service's user) and the real `loa run`
//! as the service's user (see `util::sshd`); the operators' own clients,
//! OpenSSH `sftp` and `scp` and `lftp`. Each test checks what an operator
//! sees: the client's exit code and message, the file's owner, group and
//! mode, where loa put it, and `loa media` and `loa status`.

use std::time::Duration;

use serde_json::Value;

use crate::util::fixtures::{Fixtures, fixtures};
use crate::util::service::wait_for;
use crate::util::sshd::Sshd;
use crate::util::{list, repo};

/// How long loa may take to take up (or reject) an upload.
const TAKE_UP: Duration = Duration::from_secs(20);
/// How long after taking a file up its mode and group may still change.
const SETTLE: Duration = Duration::from_secs(5);

/// The repository's sample audio/NAME (a whole, valid MP3).
fn sample(name: &str) -> Vec<u8> {
    std::fs::read(repo().join("audio").join(name)).unwrap()
}

/// A valid MP3 cut in half, as an upload that broke off leaves it. The
/// whole one is lame's (util::fixtures), whose Info header announces its
/// length: the repository's samples have none, and halving nhac-hieu.mp3
/// happens to cut between two frames, which nothing in the file betrays
/// (loa accepts it, as src/media/validate.rs explains).
fn cut_off(fx: &Fixtures) -> Vec<u8> {
    let b = fx.bytes("ban-tin.mp3");
    b[..b.len() / 2].to_vec()
}

/// `loa media --json` as the service's user, exit code 0 expected.
fn media(h: &Sshd) -> Value {
    let out = h.loa_as(&h.service, &["media", "--json"]);
    out.code(0);
    out.json()
}

/// The row of `loa media --json` for NAME (its path below audio/).
fn media_row(h: &Sshd, name: &str) -> Option<Value> {
    list(&media(h), "files")
        .iter()
        .find(|r| r["name"] == name)
        .cloned()
}

/// What to show when a wait or an assert fails: the installation with
/// owners and modes, sshd's and loa's logs, `loa media --json`.
fn story(h: &Sshd) -> String {
    let m = h.loa_as(&h.service, &["media", "--json"]);
    format!("{}\n--- loa media --json ---\n{}", h.story(), m.stdout)
}

/// Waits until `loa media` lists NAME as accepted (status "ok").
fn wait_accepted(h: &Sshd, name: &str) -> Value {
    wait_for(
        TAKE_UP,
        &format!("audio/{name} to be taken up (status ok in `loa media`)"),
        || story(h),
        || media_row(h, name).filter(|r| r["status"] == "ok"),
    )
}

/// Asserts that audio/NAME is (or becomes within SETTLE) in the upload
/// group with MODE, so that every member of the group may replace it.
fn assert_group_mode(h: &Sshd, rel: &str, mode: u32, why: &str) {
    let t = std::time::Instant::now();
    loop {
        let s = h.stat(rel);
        if s.as_ref()
            .is_some_and(|s| s.group == h.upload_group && s.mode == mode)
        {
            return;
        }
        if t.elapsed() > SETTLE {
            let shown = s.map_or("missing".to_owned(), |s| s.to_string());
            panic!(
                "{rel} is {shown}, not {}:{mode:04o} ({why})\n{}",
                h.upload_group,
                story(h)
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Asserts that a client succeeded and left REL (below the installation)
/// holding exactly `contents`.
fn assert_uploaded(h: &Sshd, out: &crate::util::Output, rel: &str, contents: &[u8]) {
    assert_eq!(out.code, Some(0), "the upload failed\n{out}\n{}", story(h));
    let got = std::fs::read(h.path(rel)).unwrap_or_default();
    assert!(
        got == contents,
        "{rel} holds {} bytes, not the {} uploaded\n{out}\n{}",
        got.len(),
        contents.len(),
        story(h)
    );
}

#[test]
fn an_sftp_upload_can_be_replaced_by_the_operator_with_scp_and_the_other_way_round() {
    // Issue 10: what the upload account sends with sftp (0644, as OpenSSH
    // sends a 0644 file) is made group-writable when loa takes it up, so an
    // operator can replace it with scp; and what the operator sends with
    // scp can be replaced by the upload account.
    let Some(mut h) = Sshd::start(
        "an_sftp_upload_can_be_replaced_by_the_operator_with_scp_and_the_other_way_round",
    ) else {
        return;
    };
    h.start_loa();
    let first = h.write_local("ban-tin.mp3", &sample("nhac-hieu.mp3"), 0o644);
    let second = h.write_local("moi/ban-tin.mp3", &sample("ket-thuc.mp3"), 0o644);

    let put = format!("put {} ban-tin.mp3", first.display());
    let out = h.sftp_batch(&h.uploader, &[&put]);
    assert_uploaded(&h, &out, "audio/ban-tin.mp3", &sample("nhac-hieu.mp3"));
    assert_eq!(h.stat("audio/ban-tin.mp3").unwrap().owner, h.uploader);
    wait_accepted(&h, "ban-tin.mp3");
    assert_group_mode(
        &h,
        "audio/ban-tin.mp3",
        0o664,
        "taken up from the upload account: the operators must be able to replace it",
    );
    let remote = h.path("audio/ban-tin.mp3").display().to_string();
    let out = h.scp(&h.operator, &second, &remote);
    assert_uploaded(&h, &out, "audio/ban-tin.mp3", &sample("ket-thuc.mp3"));

    // The other way round: the operator's scp, then the upload account.
    let third = h.write_local("thong-bao.mp3", &sample("thong-bao-chung.mp3"), 0o644);
    let remote = h.path("audio/thong-bao.mp3").display().to_string();
    let out = h.scp(&h.operator, &third, &remote);
    assert_uploaded(
        &h,
        &out,
        "audio/thong-bao.mp3",
        &sample("thong-bao-chung.mp3"),
    );
    assert_eq!(h.stat("audio/thong-bao.mp3").unwrap().owner, h.operator);
    wait_accepted(&h, "thong-bao.mp3");
    assert_group_mode(
        &h,
        "audio/thong-bao.mp3",
        0o664,
        "taken up from the operator: the upload account must be able to replace it",
    );
    let put = format!("put {} thong-bao.mp3", first.display());
    let out = h.sftp_batch(&h.uploader, &[&put]);
    assert_uploaded(&h, &out, "audio/thong-bao.mp3", &sample("nhac-hieu.mp3"));
}

#[test]
fn a_folder_sent_with_scp_r_is_made_the_groups_and_its_cut_off_file_rejected() {
    // Issue 10: a folder the upload account sends with `scp -r` arrives
    // drwxr-xr-x, without setgid: loa must make it the upload group's
    // (2775) so it can move a cut-off file out of it to rejected/, and
    // `loa status` must never show a raw "Permission denied (os error 13)".
    const TEST: &str = "a_folder_sent_with_scp_r_is_made_the_groups_and_its_cut_off_file_rejected";
    let Some(fx) = fixtures(TEST) else {
        return;
    };
    let Some(mut h) = Sshd::start(TEST) else {
        return;
    };
    let cut = cut_off(fx);
    h.start_loa();
    let folder = h.local("dot-2");
    h.write_local("dot-2/nhac-hieu.mp3", &sample("nhac-hieu.mp3"), 0o644);
    h.write_local("dot-2/ban-tin.mp3", &cut, 0o644);
    std::fs::set_permissions(&folder, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();

    let out = h.scp_recursive(&h.uploader, &folder, "dot-2");
    assert_uploaded(&h, &out, "audio/dot-2/ban-tin.mp3", &cut);
    // The whole file beside it shows that loa sees the folder at all.
    wait_accepted(&h, "dot-2/nhac-hieu.mp3");

    let note = h.path("audio/rejected/dot-2/ban-tin.mp3.txt");
    let status = || h.loa_as(&h.operator, &["status", "--json"]);
    // The note is written first, then the file moved beside it: the file
    // in rejected/ comes last.
    wait_for(
        TAKE_UP,
        "the cut-off dot-2/ban-tin.mp3 to be moved to rejected/ with a note",
        || format!("{}\n{}", story(&h), status()),
        || {
            h.path("audio/rejected/dot-2/ban-tin.mp3")
                .exists()
                .then_some(())
        },
    );
    assert!(note.exists(), "no note beside the rejected file");
    assert_group_mode(
        &h,
        "audio/dot-2",
        0o2775,
        "a folder taken up: setgid, group rwx, so every member may write in it",
    );
    assert!(
        !h.path("audio/dot-2/ban-tin.mp3").exists(),
        "the cut-off file is still in dot-2/\n{}",
        story(&h)
    );
    assert_eq!(
        std::fs::read(h.path("audio/rejected/dot-2/ban-tin.mp3")).unwrap_or_default(),
        cut,
        "the rejected file is kept as uploaded\n{}",
        story(&h)
    );
    let text = std::fs::read_to_string(&note).unwrap();
    assert!(
        text.contains("ban-tin.mp3"),
        "the note does not name the file: {text:?}"
    );
    let out = status();
    out.code(0);
    assert!(
        !out.stdout.contains("os error 13") && !out.stdout.contains("Permission denied"),
        "`loa status` shows a raw permission error\n{out}\n{}",
        story(&h)
    );
}

#[test]
fn the_upload_account_cannot_make_links() {
    // Issue 10: a link in the audio folder must never make the service
    // reach outside it: the shipped ForceCommand denies the SFTP symlink
    // and hardlink requests (`-P symlink,hardlink`), whichever way the
    // client asks.
    let Some(h) = Sshd::start("the_upload_account_cannot_make_links") else {
        return;
    };
    let good = h.write_local("nhac-hieu.mp3", &sample("nhac-hieu.mp3"), 0o644);
    let put = format!("put {} nhac-hieu.mp3", good.display());
    let out = h.sftp_batch(&h.uploader, &[&put]);
    assert_uploaded(&h, &out, "audio/nhac-hieu.mp3", &sample("nhac-hieu.mp3"));

    for (command, made) in [
        ("symlink /state /audio/st", "audio/st"),
        ("ln -s /state st2", "audio/st2"),
        ("ln -s nhac-hieu.mp3 st3.mp3", "audio/st3.mp3"),
        ("ln nhac-hieu.mp3 hl.mp3", "audio/hl.mp3"),
    ] {
        let out = h.sftp_batch(&h.uploader, &[command]);
        let said = format!("{}{}", out.stdout, out.stderr);
        assert!(
            out.code != Some(0)
                && ["Permission denied", "Operation unsupported", "not support"]
                    .iter()
                    .any(|m| said.contains(m)),
            "`{command}` was not refused\n{out}\n{}",
            story(&h)
        );
        assert!(
            h.stat(made).is_none(),
            "`{command}` made {made}: {}\n{}",
            h.stat(made).unwrap(),
            story(&h)
        );
    }
    let kept = std::fs::metadata(h.path("audio/nhac-hieu.mp3")).unwrap();
    assert_eq!(
        std::os::unix::fs::MetadataExt::nlink(&kept),
        1,
        "nhac-hieu.mp3 gained a hard link"
    );
}

#[test]
fn an_lftp_upload_is_taken_up_and_can_be_replaced_by_the_operator() {
    // Issue 10: lftp over sftp:// (as operators script uploads) works for
    // the upload account, and what it sends is taken up like an sftp
    // upload: group-writable in the upload group, replaceable by an
    // operator's scp.
    let Some(mut h) = Sshd::start("an_lftp_upload_is_taken_up_and_can_be_replaced_by_the_operator")
    else {
        return;
    };
    h.start_loa();
    let first = h.write_local("ban-tin.mp3", &sample("nhac-hieu.mp3"), 0o644);
    let out = h.lftp_put(&h.uploader, &first, "ban-tin.mp3");
    assert_uploaded(&h, &out, "audio/ban-tin.mp3", &sample("nhac-hieu.mp3"));
    assert_eq!(h.stat("audio/ban-tin.mp3").unwrap().owner, h.uploader);
    wait_accepted(&h, "ban-tin.mp3");
    assert_group_mode(
        &h,
        "audio/ban-tin.mp3",
        0o664,
        "taken up from the upload account: the operators must be able to replace it",
    );
    let second = h.write_local("moi/ban-tin.mp3", &sample("ket-thuc.mp3"), 0o644);
    let remote = h.path("audio/ban-tin.mp3").display().to_string();
    let out = h.scp(&h.operator, &second, &remote);
    assert_uploaded(&h, &out, "audio/ban-tin.mp3", &sample("ket-thuc.mp3"));
}
