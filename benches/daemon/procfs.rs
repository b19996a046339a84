//! CPU time and memory of a running process, read from /proc: utime and
//! stime from stat, per-thread run time from schedstat, VmRSS and VmHWM
//! from status. It reads; it starts and stops nothing.

use std::collections::HashMap;
use std::process::Command;

use anyhow::{Context, Result};

/// CPU use of a process at one moment.
pub struct CpuSample {
    utime: u64,
    stime: u64,
    ticks: u64,
    /// Per thread: (run time ns from schedstat, voluntary context switches).
    threads: HashMap<u32, (u64, u64)>,
}

/// CPU use of a process between two samples.
pub struct CpuDelta {
    pub ticks_ms: f64,
    pub utime_ms: f64,
    pub stime_ms: f64,
    pub sched_ms: f64,
    pub switches: u64,
    pub gone_threads: usize,
    pub threads_after: usize,
    pub ticks_before: u64,
    /// Run time of the threads alive at `before`, up to then.
    pub sched_before_ms: f64,
}

impl CpuSample {
    pub fn take(pid: u32) -> Result<CpuSample> {
        let (utime, stime) = proc_ticks(pid)?;
        let mut threads = HashMap::new();
        for e in std::fs::read_dir(format!("/proc/{pid}/task"))? {
            let e = e?;
            let Some(tid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
                continue;
            };
            let run_ns = std::fs::read_to_string(e.path().join("schedstat"))
                .ok()
                .and_then(|s| s.split_whitespace().next()?.parse::<u64>().ok());
            let switches = std::fs::read_to_string(e.path().join("status"))
                .ok()
                .and_then(|s| field_kb(&s, "voluntary_ctxt_switches"));
            if let Some(ns) = run_ns {
                threads.insert(tid, (ns, switches.unwrap_or(0)));
            }
        }
        Ok(CpuSample {
            utime,
            stime,
            ticks: utime + stime,
            threads,
        })
    }

    /// From `before` to this sample. A thread that ended in between is
    /// left out of the schedstat figure (its CPU is still in the ticks).
    pub fn since(&self, before: &CpuSample, clk_tck: u64) -> CpuDelta {
        let ms = |t: u64| t as f64 * 1000.0 / clk_tck as f64;
        let mut ns = 0u64;
        let mut switches = 0u64;
        for (tid, (run, sw)) in &self.threads {
            let (run0, sw0) = before.threads.get(tid).copied().unwrap_or((0, 0));
            ns += run.saturating_sub(run0);
            switches += sw.saturating_sub(sw0);
        }
        CpuDelta {
            ticks_ms: ms(self.ticks.saturating_sub(before.ticks)),
            utime_ms: ms(self.utime.saturating_sub(before.utime)),
            stime_ms: ms(self.stime.saturating_sub(before.stime)),
            sched_ms: ns as f64 / 1e6,
            switches,
            gone_threads: before
                .threads
                .keys()
                .filter(|t| !self.threads.contains_key(t))
                .count(),
            threads_after: self.threads.len(),
            ticks_before: before.ticks,
            sched_before_ms: before.threads.values().map(|(ns, _)| *ns).sum::<u64>() as f64 / 1e6,
        }
    }
}

/// utime and stime of a process (all its threads, dead ones included), in
/// clock ticks.
pub fn proc_ticks(pid: u32) -> Result<(u64, u64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .with_context(|| format!("reading /proc/{pid}/stat"))?;
    // The fields after the command name, which may hold spaces: the third
    // field (state) first, so utime (14th) and stime (15th) are 11 and 12.
    let rest = stat
        .rsplit_once(')')
        .map(|(_, r)| r)
        .context("/proc/PID/stat")?;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let num = |i: usize| -> Result<u64> {
        f.get(i)
            .and_then(|v| v.parse().ok())
            .context("a field of /proc/PID/stat")
    };
    Ok((num(11)?, num(12)?))
}

/// A `Key: N kB` (or plain `Key: N`) field of /proc/PID/status.
pub fn mem_kb(pid: u32, key: &str) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("reading /proc/{pid}/status"))?;
    field_kb(&status, key).with_context(|| format!("{key} in /proc/{pid}/status"))
}

fn field_kb(status: &str, key: &str) -> Option<u64> {
    status.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        (k == key).then(|| v.split_whitespace().next()?.parse().ok())?
    })
}

/// Clock ticks per second (`getconf CLK_TCK`; 100 on Linux if that fails).
pub fn clock_ticks() -> u64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .filter(|t| *t > 0)
        .unwrap_or(100)
}

pub fn kb_mb(kb: u64) -> f64 {
    kb as f64 * 1024.0 / 1e6
}

pub fn mb(kb: u64) -> String {
    format!("{:.1} MB", kb_mb(kb))
}
