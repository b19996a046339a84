//! Test support for the upload path through a real OpenSSH server: a
//! throwaway `sshd` on 127.0.0.1 with its own config, in which the shipped
//! deploy/sshd/loa-upload.conf is included as the installer puts it in
//! place; real throwaway accounts (an SFTP-only upload account, an operator,
//! the service's user and their groups); an installation folder that sshd
//! accepts as a chroot; the clients operators use (OpenSSH `sftp` and `scp`,
//! `lftp`); and the real `loa run` as the service's user. It needs root, and
//! removes everything it made (processes, accounts, folders) when dropped,
//! also after a failed assert. Like the rest of `util`, it knows nothing of
//! loa's insides: it looks at files, exit codes and output.

use std::collections::hash_map::RandomState;
use std::fs::File;
use std::hash::{BuildHasher, Hasher};
use std::io::Read;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tempfile::TempDir;

use super::{BIN, Output, repo};

/// The programs the harness runs, and the Debian packages that have them
/// (tests/run.sh installs these).
const TOOLS: &[(&str, &str)] = &[
    ("/usr/sbin/sshd", "openssh-server"),
    ("sftp", "openssh-client"),
    ("scp", "openssh-client"),
    ("ssh", "openssh-client"),
    ("ssh-keygen", "openssh-client"),
    ("lftp", "lftp"),
    ("setfacl", "acl"),
    ("setpriv", "util-linux"),
    ("useradd", "passwd"),
    ("userdel", "passwd"),
    ("groupadd", "passwd"),
    ("groupdel", "passwd"),
];

/// Where the installations are made: sshd wants every folder of a chroot
/// path owned by root and writable by nobody else, which /tmp is not.
const BASE: &str = "/run/loa-tests";
/// How long one client (sftp, scp, lftp) or one-shot `loa` may take: a hang
/// fails the test instead of stalling the suite.
pub const CLIENT_LIMIT: Duration = Duration::from_secs(60);
/// How long sshd may take to accept connections, and `loa run` to answer.
const START_WITHIN: Duration = Duration::from_secs(15);
const POLL: Duration = Duration::from_millis(100);

/// Options every OpenSSH client gets: no prompts, no known_hosts, no
/// config of the machine's own, only the given key.
const SSH_OPTIONS: &[&str] = &[
    "-F",
    "/dev/null",
    "-o",
    "BatchMode=yes",
    "-o",
    "StrictHostKeyChecking=no",
    "-o",
    "UserKnownHostsFile=/dev/null",
    "-o",
    "IdentitiesOnly=yes",
    "-o",
    "LogLevel=ERROR",
    "-o",
    "ConnectTimeout=10",
];

/// A throwaway sshd, its accounts and a loa installation, for one test.
///
/// The installation (`install()`, under /run/loa-tests/) is root's 0755 and
/// is the upload account's chroot: `audio/` and `playlists/` owned by the
/// service's user and the upload group, 2775 with a default ACL giving the
/// group rwx, `state/` the service's own 2770, `loa.toml` root's 0644,
/// `sshd/` (root only: config, host key, clients' keys, sshd's log) and
/// `keys/` (the authorized keys, one root-owned 0644 file per account).
pub struct Sshd {
    /// The accounts' common prefix: "lt" and six random letters.
    id: String,
    /// Stands for group loa-upload: may write audio/ and playlists/.
    pub upload_group: String,
    /// Stands for group loa-sftp: the shipped snippet's Match Group.
    pub sftp_group: String,
    /// The SFTP-only upload account (in both groups above, nologin shell).
    pub uploader: String,
    /// An operator's ordinary login (shell /bin/sh), in the upload group
    /// and the service's group (for `loa status`).
    pub operator: String,
    /// Stands for user loa: runs `loa run`; in the upload group.
    pub service: String,
    /// The service user's own group (stands for group loa, which may use
    /// the control socket).
    pub service_group: String,
    /// The operator's own group, as an ordinary login has.
    pub operator_group: String,
    install: PathBuf,
    port: u16,
    /// Client-side scratch: the files the tests upload, batch files.
    scratch: TempDir,
    sshd: Option<Child>,
    loa: Option<Child>,
    /// What was made, to be removed on drop (in reverse).
    users: Vec<String>,
    groups: Vec<String>,
    made_install: bool,
}

/// A file's owner, group and mode, as `stat` shows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stat {
    pub owner: String,
    pub group: String,
    /// Permission bits with setuid, setgid and sticky (`mode & 0o7777`).
    pub mode: u32,
    pub symlink: bool,
    pub dir: bool,
}

impl std::fmt::Display for Stat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = if self.symlink {
            " (symlink)"
        } else if self.dir {
            " (folder)"
        } else {
            ""
        };
        write!(f, "{}:{} {:04o}{kind}", self.owner, self.group, self.mode)
    }
}

impl Sshd {
    /// Makes the accounts and the installation and starts sshd. None (with
    /// a SKIPPED line) when not root outside CI; fails the test when root
    /// is missing under CI or a tool is missing.
    pub fn start(test: &str) -> Option<Sshd> {
        if !is_root() {
            assert!(
                std::env::var_os("CI").is_none(),
                "{test}: needs root (real accounts, an sshd with a chroot); CI runs \
                 tests/run.sh as root"
            );
            super::skip::skipped(test, "needs root (real accounts, an sshd with a chroot)");
            return None;
        }
        let missing: Vec<String> = TOOLS
            .iter()
            .filter(|(tool, _)| !on_path(tool))
            .map(|(tool, pkg)| format!("{tool} ({pkg})"))
            .collect();
        assert!(
            missing.is_empty(),
            "{test}: {} missing, but tests/run.sh should have installed them",
            missing.join(", ")
        );
        let id = unique_id();
        let mut h = Sshd {
            upload_group: format!("{id}up"),
            sftp_group: format!("{id}sf"),
            uploader: format!("{id}u"),
            operator: format!("{id}o"),
            service: format!("{id}l"),
            service_group: format!("{id}lg"),
            operator_group: format!("{id}og"),
            install: Path::new(BASE).join(&id),
            id,
            port: 0,
            scratch: tempfile::tempdir().expect("a temporary folder"),
            sshd: None,
            loa: None,
            users: Vec::new(),
            groups: Vec::new(),
            made_install: false,
        };
        // A panic from here on drops `h`, which removes what was made.
        h.make_accounts();
        h.make_installation();
        h.make_keys();
        h.start_sshd();
        Some(h)
    }

    /// A path below the installation.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.install.join(rel)
    }

    /// The config `loa --config` is given.
    pub fn config_path(&self) -> PathBuf {
        self.path("loa.toml")
    }

    /// A path in the client-side scratch folder (root's, outside the
    /// installation), for files to upload.
    pub fn local(&self, rel: &str) -> PathBuf {
        self.scratch.path().join(rel)
    }

    /// Writes a client-side file with this mode, creating its folders;
    /// returns its path.
    pub fn write_local(&self, rel: &str, contents: &[u8], mode: u32) -> PathBuf {
        let p = self.local(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, contents).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
        p
    }

    /// Owner, group and mode of a path below the installation (not
    /// following a symlink); None if there is nothing there.
    pub fn stat(&self, rel: &str) -> Option<Stat> {
        let m = std::fs::symlink_metadata(self.path(rel)).ok()?;
        Some(Stat {
            owner: name_of("passwd", m.uid()),
            group: name_of("group", m.gid()),
            mode: m.mode() & 0o7777,
            symlink: m.file_type().is_symlink(),
            dir: m.is_dir(),
        })
    }

    /// What sshd logged so far (for failure messages).
    pub fn sshd_log(&self) -> String {
        std::fs::read_to_string(self.path("sshd/sshd.log")).unwrap_or_default()
    }

    /// Everything below audio/ with owner, group and mode, one per line,
    /// and sshd's log: what to show when an assert about uploads fails.
    pub fn story(&self) -> String {
        let mut lines = Vec::new();
        walk(&self.path("audio"), "audio", &mut |rel| {
            let s = self.stat(rel).map(|s| s.to_string()).unwrap_or_default();
            lines.push(format!("  {rel}  {s}"));
        });
        format!(
            "--- installation ---\n{}\n--- sshd log ---\n{}{}",
            lines.join("\n"),
            self.sshd_log(),
            self.loa_output()
        )
    }

    // ----- clients -----

    /// `sftp -b` with these commands, as `user` (key login). A failing
    /// command ends the batch with a non-zero exit (prefix it with `-` to
    /// go on).
    pub fn sftp_batch(&self, user: &str, commands: &[&str]) -> Output {
        let batch = self.local(&format!("batch-{}", unique_id()));
        std::fs::write(&batch, commands.join("\n") + "\n").unwrap();
        let mut cmd = Command::new("sftp");
        cmd.args(SSH_OPTIONS)
            .arg("-i")
            .arg(self.key(user))
            .arg("-P")
            .arg(self.port.to_string())
            .arg("-b")
            .arg(&batch)
            .arg(format!("{user}@127.0.0.1"));
        let shown = format!("sftp (as {user}) <<< {commands:?}");
        run_within(cmd, CLIENT_LIMIT, shown)
    }

    /// `scp LOCAL USER@127.0.0.1:REMOTE` (OpenSSH ≥ 9 speaks SFTP).
    pub fn scp(&self, user: &str, local: &Path, remote: &str) -> Output {
        self.scp_with(user, &[], local, remote)
    }

    /// `scp -r LOCAL USER@127.0.0.1:REMOTE`.
    pub fn scp_recursive(&self, user: &str, local: &Path, remote: &str) -> Output {
        self.scp_with(user, &["-r"], local, remote)
    }

    fn scp_with(&self, user: &str, flags: &[&str], local: &Path, remote: &str) -> Output {
        let mut cmd = Command::new("scp");
        cmd.args(SSH_OPTIONS)
            .arg("-i")
            .arg(self.key(user))
            .arg("-P")
            .arg(self.port.to_string())
            .args(flags)
            .arg(local)
            .arg(format!("{user}@127.0.0.1:{remote}"));
        let shown = format!(
            "scp {} {} {user}@127.0.0.1:{remote}",
            flags.join(" "),
            local.display()
        );
        run_within(cmd, CLIENT_LIMIT, shown)
    }

    /// `lftp`: `open sftp://USER:x@127.0.0.1` through ssh with `user`'s
    /// key, then `put LOCAL -o REMOTE`.
    pub fn lftp_put(&self, user: &str, local: &Path, remote: &str) -> Output {
        let connect = format!(
            "ssh -a -x -F /dev/null -i {} -o IdentitiesOnly=yes -o StrictHostKeyChecking=no \
             -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=ERROR -p {}",
            self.key(user).display(),
            self.port
        );
        let script = format!(
            "set cmd:fail-exit yes; set net:max-retries 2; set net:timeout 15; \
             set sftp:connect-program \"{connect}\"; open sftp://{user}:x@127.0.0.1; \
             put {} -o {remote}",
            local.display()
        );
        let mut cmd = Command::new("lftp");
        cmd.arg("-c").arg(&script).env("HOME", self.scratch.path());
        run_within(cmd, CLIENT_LIMIT, format!("lftp -c '{script}'"))
    }

    // ----- loa -----

    /// Starts `loa --config INSTALL/loa.toml run` as the service's user
    /// (the upload group as its group, CAP_FOWNER and CAP_CHOWN as the
    /// systemd unit grants them), LOA_LOG=info, output to INSTALL/run.out
    /// and run.err; waits until it answers `loa status --json`.
    pub fn start_loa(&mut self) {
        assert!(self.loa.is_none(), "loa run started twice");
        let probe = self.loa_as(&self.service, &["--help"]);
        assert!(
            probe.code == Some(0),
            "the service user {} cannot run {BIN} (every folder above it must be \
             searchable by others)\n{probe}",
            self.service
        );
        let out = File::create(self.path("run.out")).unwrap();
        let err = File::create(self.path("run.err")).unwrap();
        let child = Command::new("setpriv")
            .arg(format!("--reuid={}", self.service))
            .arg(format!("--regid={}", self.upload_group))
            .args([
                "--init-groups",
                "--inh-caps=+fowner,+chown",
                "--ambient-caps=+fowner,+chown",
                "--",
            ])
            .arg(BIN)
            .arg("--config")
            .arg(self.config_path())
            .arg("run")
            .env_remove("LOA_CONFIG")
            .env_remove("NOTIFY_SOCKET")
            .env_remove("WATCHDOG_USEC")
            .env("LOA_LOG", "info")
            .current_dir(&self.install)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .expect("starting loa run through setpriv");
        self.loa = Some(child);
        self.wait_loa_ready();
    }

    /// Polls `loa status --json` (as the service's user) until it answers;
    /// fails the test if `loa run` exits first or takes too long.
    pub fn wait_loa_ready(&mut self) {
        let t = Instant::now();
        loop {
            let status = self.loa_as(&self.service, &["status", "--json"]);
            if status.code == Some(0) {
                return;
            }
            let child = self.loa.as_mut().expect("loa run started");
            if let Some(exit) = child.try_wait().expect("waiting for loa run") {
                self.loa = None;
                panic!(
                    "loa run exited ({exit}) before answering\n{status}\n{}",
                    self.loa_output()
                );
            }
            assert!(
                t.elapsed() < START_WITHIN,
                "loa run did not answer `loa status` within {START_WITHIN:?}\n{status}\n{}",
                self.loa_output()
            );
            std::thread::sleep(POLL);
        }
    }

    /// What `loa run` printed so far (empty if it was not started).
    pub fn loa_output(&self) -> String {
        if !self.path("run.err").exists() {
            return String::new();
        }
        let read = |p: PathBuf| std::fs::read_to_string(p).unwrap_or_default();
        format!(
            "\n--- loa run stdout ---\n{}--- loa run stderr ---\n{}",
            read(self.path("run.out")),
            read(self.path("run.err"))
        )
    }

    /// Runs `loa --config INSTALL/loa.toml ARGS...` as `user` (with its
    /// primary group and the groups it is in), from the installation.
    pub fn loa_as(&self, user: &str, args: &[&str]) -> Output {
        let group = self.primary_group(user);
        let mut cmd = Command::new("setpriv");
        cmd.arg(format!("--reuid={user}"))
            .arg(format!("--regid={group}"))
            .args(["--init-groups", "--"])
            .arg(BIN)
            .arg("--config")
            .arg(self.config_path())
            .args(args)
            .env_remove("LOA_CONFIG")
            .env_remove("LOA_LOG")
            .current_dir(&self.install);
        let shown = format!(
            "loa --config {} {} (as {user})",
            self.config_path().display(),
            args.join(" ")
        );
        let out = run_within(cmd, CLIENT_LIMIT, shown);
        assert!(
            !out.stderr.contains("panicked") && out.code != Some(101),
            "loa panicked\n{out}"
        );
        out
    }

    // ----- set-up -----

    /// The group a one-shot `loa` runs with: the upload group for the
    /// service (as `loa run` has) and the upload account, the operator's
    /// own for the operator.
    fn primary_group<'a>(&'a self, user: &str) -> &'a str {
        if user == self.operator {
            &self.operator_group
        } else if user == self.service || user == self.uploader {
            &self.upload_group
        } else {
            panic!("{user} is none of this test's accounts")
        }
    }

    fn key(&self, user: &str) -> PathBuf {
        let k = self.path("sshd/clients").join(user);
        assert!(
            k.exists(),
            "{user} has no key: only the upload account and the operator log in"
        );
        k
    }

    fn make_accounts(&mut self) {
        for g in [
            self.upload_group.clone(),
            self.sftp_group.clone(),
            self.service_group.clone(),
            self.operator_group.clone(),
        ] {
            account(&["groupadd", &g]);
            self.groups.push(g);
        }
        let (up, sf) = (self.upload_group.clone(), self.sftp_group.clone());
        let install = self.install.display().to_string();
        let uploader = self.uploader.clone();
        self.useradd(&uploader, &up, &[&sf], "/usr/sbin/nologin", "/", true);
        let (operator, og, svc) = (
            self.operator.clone(),
            self.operator_group.clone(),
            self.service_group.clone(),
        );
        self.useradd(&operator, &og, &[&up, &svc], "/bin/sh", &install, true);
        let service = self.service.clone();
        self.useradd(&service, &svc, &[&up], "/usr/sbin/nologin", &install, false);
    }

    /// `useradd` without a home folder or a group of its own. An account
    /// that logs in gets the password '*' ("no password"): useradd's '!'
    /// means "locked", which sshd refuses even for a key.
    fn useradd(
        &mut self,
        name: &str,
        group: &str,
        groups: &[&str],
        shell: &str,
        home: &str,
        logs_in: bool,
    ) {
        let joined = groups.join(",");
        let mut args = vec![
            "useradd", "-M", "-N", "-g", group, "-G", &joined, "-s", shell, "-d", home,
        ];
        if logs_in {
            args.extend(["-p", "*"]);
        }
        args.push(name);
        account(&args);
        self.users.push(name.to_owned());
    }

    fn make_installation(&mut self) {
        std::fs::create_dir_all(BASE).unwrap();
        std::fs::set_permissions(BASE, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::create_dir(&self.install)
            .unwrap_or_else(|e| panic!("making {}: {e}", self.install.display()));
        self.made_install = true;
        let i = &self.install;
        std::fs::set_permissions(i, std::fs::Permissions::from_mode(0o755)).unwrap();
        for d in ["audio", "playlists"] {
            let p = i.join(d);
            run(Command::new("install")
                .args([
                    "-d",
                    "-o",
                    &self.service,
                    "-g",
                    &self.upload_group,
                    "-m",
                    "2775",
                ])
                .arg(&p));
            run(Command::new("setfacl")
                .args(["-m", "d:u::rwx,d:g::rwx,d:o::rx"])
                .arg(&p));
        }
        run(Command::new("install")
            .args([
                "-d",
                "-o",
                &self.service,
                "-g",
                &self.service_group,
                "-m",
                "2770",
            ])
            .arg(i.join("state")));
        for (d, mode) in [("sshd", 0o700), ("sshd/clients", 0o700), ("keys", 0o755)] {
            std::fs::create_dir(i.join(d)).unwrap();
            std::fs::set_permissions(i.join(d), std::fs::Permissions::from_mode(mode)).unwrap();
        }
        let config = format!(
            "language = \"en\"\n\n[paths]\naudio = \"{i}/audio\"\nplaylists = \"{i}/playlists\"\n\
             state = \"{i}/state\"\n\n[relay]\nbackend = \"sim\"\nsim-file = \"{i}/state/relay.log\"\n\n\
             [schedule]\nrequire-clock-sync = false\n",
            i = i.display()
        );
        std::fs::write(self.config_path(), config).unwrap();
        std::fs::set_permissions(self.config_path(), std::fs::Permissions::from_mode(0o644))
            .unwrap();
        for (rel, want) in [("audio", 0o2775), ("playlists", 0o2775), ("state", 0o2770)] {
            let s = self.stat(rel).unwrap();
            assert_eq!(s.mode, want, "{rel} was made {s}");
        }
    }

    fn make_keys(&self) {
        keygen(&self.path("sshd/host_ed25519"), "host");
        for user in [&self.uploader, &self.operator] {
            let k = self.path("sshd/clients").join(user);
            keygen(&k, user);
            let authorized = self.path("keys").join(user);
            std::fs::copy(k.with_extension("pub"), &authorized).unwrap();
            std::fs::set_permissions(&authorized, std::fs::Permissions::from_mode(0o644)).unwrap();
        }
    }

    /// The sshd_config: this test's own settings, then the shipped snippet
    /// with only its group and chroot replaced by this test's.
    fn sshd_config(&self, port: u16) -> String {
        let snippet_path = repo().join("deploy/sshd/loa-upload.conf");
        let snippet = std::fs::read_to_string(&snippet_path)
            .unwrap_or_else(|e| panic!("{}: {e}", snippet_path.display()));
        let install = self.install.display().to_string();
        let snippet = snippet
            .replace("loa-sftp", &self.sftp_group)
            .replace("/var/lib/loa", &install);
        for want in [
            format!("Match Group {}", self.sftp_group),
            format!("ChrootDirectory {install}"),
        ] {
            assert!(
                snippet.contains(&want),
                "{} no longer holds {want:?} once its group and chroot are replaced",
                snippet_path.display()
            );
        }
        format!(
            "# A throwaway sshd for one test ({id}).\n\
             Port {port}\n\
             ListenAddress 127.0.0.1\n\
             HostKey {dir}/sshd/host_ed25519\n\
             PidFile {dir}/sshd/sshd.pid\n\
             UsePAM no\n\
             PasswordAuthentication no\n\
             KbdInteractiveAuthentication no\n\
             StrictModes yes\n\
             AuthorizedKeysFile {dir}/keys/%u\n\
             Subsystem sftp internal-sftp\n\
             \n\
             # ---- deploy/sshd/loa-upload.conf, group and chroot replaced ----\n\
             {snippet}",
            id = self.id,
            dir = install,
        )
    }

    /// Starts sshd on a free port and waits until it accepts connections;
    /// tries another port if the one picked was taken meanwhile.
    fn start_sshd(&mut self) {
        std::fs::create_dir_all("/run/sshd").unwrap();
        let config = self.path("sshd/sshd_config");
        let log = self.path("sshd/sshd.log");
        for _ in 0..5 {
            let port = free_port();
            std::fs::write(&config, self.sshd_config(port)).unwrap();
            let check = Command::new("/usr/sbin/sshd")
                .arg("-t")
                .arg("-f")
                .arg(&config)
                .output()
                .expect("running sshd -t");
            assert!(
                check.status.success(),
                "sshd -t rejects the config\n{}\n--- {} ---\n{}",
                String::from_utf8_lossy(&check.stderr),
                config.display(),
                std::fs::read_to_string(&config).unwrap()
            );
            let child = Command::new("/usr/sbin/sshd")
                .args(["-D", "-e", "-f"])
                .arg(&config)
                .stdin(Stdio::null())
                .stdout(File::create(self.path("sshd/sshd.out")).unwrap())
                .stderr(File::create(&log).unwrap())
                .spawn()
                .expect("starting sshd");
            self.sshd = Some(child);
            self.port = port;
            let t = Instant::now();
            loop {
                let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
                if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                    return;
                }
                if let Some(exit) = self.sshd.as_mut().unwrap().try_wait().unwrap() {
                    self.sshd = None;
                    let text = self.sshd_log();
                    if text.contains("Address already in use") {
                        break;
                    }
                    panic!("sshd exited ({exit}) on start\n{text}");
                }
                assert!(
                    t.elapsed() < START_WITHIN,
                    "sshd does not accept connections on 127.0.0.1:{port} after \
                     {START_WITHIN:?}\n{}",
                    self.sshd_log()
                );
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        panic!("sshd found no free port\n{}", self.sshd_log());
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        for child in [self.loa.take(), self.sshd.take()].into_iter().flatten() {
            let mut child = child;
            let _ = child.kill();
            let _ = child.wait();
        }
        // A session's sshd may take a moment to end after its client: a
        // user with a process left cannot be removed, so try again.
        for user in self.users.drain(..).rev() {
            let t = Instant::now();
            loop {
                match try_account(&["userdel", &user]) {
                    Ok(()) => break,
                    Err(e) if t.elapsed() > Duration::from_secs(5) => {
                        eprintln!("warning: could not remove test user {user}: {e}");
                        break;
                    }
                    Err(_) => std::thread::sleep(POLL),
                }
            }
        }
        for group in self.groups.drain(..).rev() {
            if let Err(e) = try_account(&["groupdel", &group]) {
                eprintln!("warning: could not remove test group {group}: {e}");
            }
        }
        if self.made_install
            && let Err(e) = std::fs::remove_dir_all(&self.install)
        {
            eprintln!("warning: could not remove {}: {e}", self.install.display());
        }
    }
}

// ----- helpers -----

/// Runs `cmd` to the end, collecting its output; kills it and fails the
/// test if it takes longer than `limit`. `shown` names it in messages.
pub fn run_within(mut cmd: Command, limit: Duration, shown: String) -> Output {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("running {shown}: {e}"));
    let read = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut v = Vec::new();
            let _ = r.read_to_end(&mut v);
            v
        })
    };
    let out = read(Box::new(child.stdout.take().unwrap()));
    let err = read(Box::new(child.stderr.take().unwrap()));
    let t = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().expect("waiting for a client") {
            break s;
        }
        if t.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            let (o, e) = (out.join().unwrap(), err.join().unwrap());
            panic!(
                "{shown}: still running after {limit:?}: killed\n--- stdout ---\n{}\n\
                 --- stderr ---\n{}",
                String::from_utf8_lossy(&o),
                String::from_utf8_lossy(&e)
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Output {
        command: shown,
        code: status.code(),
        stdout: String::from_utf8_lossy(&out.join().unwrap()).into_owned(),
        stderr: String::from_utf8_lossy(&err.join().unwrap()).into_owned(),
    }
}

/// Runs a set-up command; fails the test with its output if it fails.
fn run(cmd: &mut Command) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("running {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed ({})\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn keygen(path: &Path, comment: &str) {
    run(Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f"])
        .arg(path));
}

/// One at a time: useradd and friends lock /etc/passwd and /etc/group, and
/// the tests run in parallel threads.
static ACCOUNTS: Mutex<()> = Mutex::new(());

/// Runs useradd, groupadd, userdel or groupdel; fails the test if it fails.
fn account(args: &[&str]) {
    if let Err(e) = try_account(args) {
        panic!("{e}");
    }
}

fn try_account(args: &[&str]) -> Result<(), String> {
    let _one = ACCOUNTS.lock().unwrap_or_else(|e| e.into_inner());
    let mut last = String::new();
    // Another program (or another test binary) may hold the lock files.
    for _ in 0..50 {
        let out = Command::new(args[0])
            .args(&args[1..])
            .output()
            .map_err(|e| format!("running {}: {e}", args[0]))?;
        if out.status.success() {
            return Ok(());
        }
        last = format!(
            "{} failed ({}): {}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
        if !last.contains("lock") {
            break;
        }
        std::thread::sleep(POLL);
    }
    Err(last)
}

/// "lt" and six random lowercase letters, naming no account or group yet.
fn unique_id() -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    loop {
        let mut h = RandomState::new().build_hasher();
        h.write_u64(N.fetch_add(1, Ordering::Relaxed));
        h.write_u32(std::process::id());
        let mut x = h.finish();
        let letters: String = (0..6)
            .map(|_| {
                let c = (b'a' + (x % 26) as u8) as char;
                x /= 26;
                c
            })
            .collect();
        let id = format!("lt{letters}");
        let taken = |db: &str| {
            std::fs::read_to_string(db)
                .unwrap_or_default()
                .lines()
                .any(|l| l.starts_with(&id))
        };
        if !taken("/etc/passwd") && !taken("/etc/group") && !Path::new(BASE).join(&id).exists() {
            return id;
        }
    }
}

/// A port on 127.0.0.1 that nothing listens on right now.
fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// Whether this process runs as root (the owner of /proc/self is the
/// effective user).
fn is_root() -> bool {
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

fn on_path(tool: &str) -> bool {
    if tool.starts_with('/') {
        return Path::new(tool).is_file();
    }
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|d| d.join(tool).is_file()))
}

/// The name of user or group `id` from /etc/passwd or /etc/group, else the
/// number.
fn name_of(db: &str, id: u32) -> String {
    std::fs::read_to_string(format!("/etc/{db}"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| {
            let mut f = l.split(':');
            let name = f.next()?;
            (f.nth(1)? == id.to_string()).then(|| name.to_owned())
        })
        .unwrap_or_else(|| id.to_string())
}

/// Calls `f` with every path below `dir` ("/"-separated, starting with
/// `prefix`), sorted, folders before what they hold.
fn walk(dir: &Path, prefix: &str, f: &mut dyn FnMut(&str)) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut names: Vec<String> = entries
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    for name in names {
        let rel = format!("{prefix}/{name}");
        f(&rel);
        let p = dir.join(&name);
        if p.is_dir() && !p.is_symlink() {
            walk(&p, &rel, f);
        }
    }
}
