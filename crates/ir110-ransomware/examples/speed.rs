//! Speed benchmark: files/s on many small files and bytes/s on large ones, against a plain
//! walk, reading every byte (`cat`), and reading exactly the bytes the scanner reads.
//! `cargo run --release -p ir110-ransomware --example speed -- DIR [SMALL_FILES] [--cold] [--tree small|large] [--threads N]`
//! (`--threads`: workers of `cat`, the read plan and the scan; default 2).
//! Creates DIR/small (sample documents) and DIR/large (4 × 128 MiB + one sparse 8 GiB file) on
//! first use. Prints Markdown; each figure is the median of 3 runs, warm cache by default (one
//! untimed run first). With `--cold`, the page cache is emptied before every timed run of every
//! contender: `echo 3 > /proc/sys/vm/drop_caches` (page cache, dentries and inodes; needs root),
//! or, when that write fails, `posix_fadvise(DONTNEED)` on every file (file data only: the
//! directory entries and inodes stay cached, so the walk is still warm). The method used is
//! printed. A client's share or an evidence disk is normally cold.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use ir110_ransomware::content::{Content, ReadPlan};
use ir110_ransomware::{ScanOptions, scan};
use ir110_samples::DocKind;

fn build(dir: &Path, small: usize) -> std::io::Result<()> {
    let s = dir.join("small");
    if !s.is_dir() {
        for i in 0..small {
            let kind = DocKind::ALL[i % DocKind::ALL.len()];
            let d = s.join(format!("{:03}", i / 500));
            std::fs::create_dir_all(&d)?;
            let bytes = ir110_samples::document(kind, i as u64, "資料");
            std::fs::write(d.join(format!("f{i}.{}", kind.extension())), bytes)?;
        }
    }
    let l = dir.join("large");
    if !l.is_dir() {
        std::fs::create_dir_all(&l)?;
        let mut rng = ir110_samples::Rng::new(1);
        let chunk = rng.bytes(1 << 20);
        let text = "2026-04-01T09:00:00+09:00 fileserver smbd[1234]: user 12 opened 請求書.xlsx\n"
            .repeat(14_000);
        for i in 0..4 {
            let mut f = std::io::BufWriter::new(std::fs::File::create(
                l.join(format!("big{i}.{}", if i % 2 == 0 { "bin" } else { "log" })),
            )?);
            for _ in 0..128 {
                use std::io::Write;
                if i % 2 == 0 {
                    f.write_all(&chunk)?;
                } else {
                    f.write_all(&text.as_bytes()[..1 << 20])?;
                }
            }
        }
        let sparse = std::fs::File::create(l.join("sparse.vhdx"))?;
        sparse.set_len(8 << 30)?;
    }
    Ok(())
}

fn files(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in ignore::WalkBuilder::new(root)
        .standard_filters(false)
        .build()
        .flatten()
    {
        if e.file_type().is_some_and(|t| t.is_file()) {
            out.push(e.into_path());
        }
    }
    out
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// CPU time (user + system) of this process so far, in seconds (Linux; 0 elsewhere).
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|x| x.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15 (1-based), i.e. 11 and 12 after the ')'.
    (ticks(11) + ticks(12)) / 100.0
}

/// How the cache is prepared before each timed run.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Cache {
    /// One untimed run first; nothing between runs.
    Warm,
    /// `echo 3 > /proc/sys/vm/drop_caches` before every timed run.
    DropCaches,
    /// `posix_fadvise(DONTNEED)` on every file before every timed run.
    Fadvise,
}

impl Cache {
    fn name(self) -> &'static str {
        match self {
            Cache::Warm => "warm",
            Cache::DropCaches => "cold (drop_caches = 3 before each run)",
            Cache::Fadvise => {
                "cold (posix_fadvise DONTNEED per file before each run; dentries and inodes stay cached)"
            }
        }
    }

    /// Picks the cold method that works here.
    fn cold() -> Cache {
        // Dirty pages of a freshly built tree cannot be dropped: write them first.
        let _ = std::process::Command::new("sync").status();
        if std::fs::write("/proc/sys/vm/drop_caches", "3\n").is_ok() {
            Cache::DropCaches
        } else {
            Cache::Fadvise
        }
    }

    /// Empties the cache of `files` (untimed).
    fn prepare(self, files: &[PathBuf]) {
        match self {
            Cache::Warm => {}
            Cache::DropCaches => {
                if std::fs::write("/proc/sys/vm/drop_caches", "3\n").is_err() {
                    eprintln!("drop_caches failed between runs");
                }
            }
            Cache::Fadvise => {
                for p in files {
                    if let Ok(f) = std::fs::File::open(p) {
                        let _ = rustix::fs::fadvise(&f, 0, None, rustix::fs::Advice::DontNeed);
                    }
                }
            }
        }
    }
}

/// Median wall time and median CPU time of 3 runs, and the last result. Warm: one untimed run
/// first; cold: the cache of `files` is emptied before every timed run.
fn time(cache: Cache, files: &[PathBuf], f: &dyn Fn() -> u64) -> (f64, f64, u64) {
    let mut times = Vec::new();
    let mut cpu = Vec::new();
    let mut out = 0;
    if cache == Cache::Warm {
        f();
    }
    for _ in 0..3 {
        cache.prepare(files);
        let c = cpu_seconds();
        let t = Instant::now();
        out = f();
        times.push(t.elapsed().as_secs_f64());
        cpu.push(cpu_seconds() - c);
    }
    (median(times), median(cpu), out)
}

fn par_each(threads: usize, paths: &[PathBuf], f: &(dyn Fn(&Path) -> u64 + Sync)) -> u64 {
    let total = AtomicU64::new(0);
    let next = AtomicU64::new(0);
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed) as usize;
                    let Some(p) = paths.get(i) else { break };
                    total.fetch_add(f(p), Ordering::Relaxed);
                }
            });
        }
    });
    total.into_inner()
}

fn main() -> std::io::Result<()> {
    let mut args: Vec<String> = Vec::new();
    let mut cold = false;
    let mut only: Option<String> = None;
    let mut threads = 2;
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--cold" => cold = true,
            "--tree" => only = it.next(),
            "--threads" => threads = it.next().and_then(|t| t.parse().ok()).unwrap_or(2),
            _ => args.push(a),
        }
    }
    let dir = PathBuf::from(
        args.first()
            .cloned()
            .unwrap_or_else(|| "/tmp/ir110-speed".into()),
    );
    let small: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(20_000);
    build(&dir, small)?;
    let cache = if cold { Cache::cold() } else { Cache::Warm };
    println!(
        "Cache: {}. Threads (every contender but the walk): {threads}.\n",
        cache.name()
    );
    let opts = ScanOptions {
        threads,
        ..ScanOptions::default()
    };
    println!(
        "| tree | files | bytes | plain walk | cat (all bytes) | read plan only | scan | scan ÷ read plan | scan ÷ cat | CPU s: walk / cat / read plan / scan |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for sub in ["small", "large"] {
        if only.as_deref().is_some_and(|o| o != sub) {
            continue;
        }
        let root = dir.join(sub);
        let list = files(&root);
        let size: u64 = list
            .iter()
            .filter_map(|p| std::fs::metadata(p).ok())
            .map(|m| m.len())
            .sum();
        let (walk, walk_cpu, n) = time(cache, &list, &|| files(&root).len() as u64);
        // `cat`: read every byte (the sparse file included, as cat would).
        let (cat, cat_cpu, _) = time(cache, &list, &|| {
            par_each(threads, &list, &|p| {
                thread_local! {
                    // One buffer per thread, as `cat` has (allocating per file would slow it).
                    static BUF: std::cell::RefCell<Vec<u8>> = std::cell::RefCell::new(vec![0u8; 1 << 20]);
                }
                let mut f = match std::fs::File::open(p) {
                    Ok(f) => f,
                    Err(_) => return 0,
                };
                BUF.with_borrow_mut(|buf| {
                    let mut t = 0;
                    while let Ok(k) = std::io::Read::read(&mut f, buf) {
                        if k == 0 {
                            break;
                        }
                        t += k as u64;
                    }
                    t
                })
            })
        });
        let plan = ReadPlan::default();
        let (planned, plan_cpu, plan_bytes) = time(cache, &list, &|| {
            par_each(threads, &list, &|p| {
                std::fs::metadata(p)
                    .ok()
                    .and_then(|m| Content::read(p, m.len(), &plan).ok())
                    .map_or(0, |c| c.bytes_read())
            })
        });
        let (sc, sc_cpu, scanned) = time(cache, &list, &|| {
            scan(std::slice::from_ref(&root), &opts, &|_| {})
                .total
                .files
        });
        assert_eq!(scanned, n);
        let rate = |t: f64| {
            if sub == "small" {
                format!("{:.0} files/s", n as f64 / t)
            } else {
                format!("{:.0} MB/s", size as f64 / t / 1e6)
            }
        };
        println!(
            "| {sub} | {n} | {size} (read by scan: {plan_bytes}) | {:.2} s ({}) | {:.2} s ({}) | {:.2} s | {:.2} s ({}) | {:.2} | {:.2} | {walk_cpu:.2} / {cat_cpu:.2} / {plan_cpu:.2} / {sc_cpu:.2} |",
            walk,
            rate(walk),
            cat,
            rate(cat),
            planned,
            sc,
            rate(sc),
            sc / planned,
            sc / cat
        );
    }
    Ok(())
}
