//! Deterministic synthetic traffic: the `ir110 demo` network log and the test corpus.
//!
//! Normal traffic imitates an office: people browse during working hours (JST) on weekdays,
//! most destinations are visited on a few days, some SaaS destinations every day, and a few
//! update services poll hourly while PCs are on. Beacons are injected with a period, a uniform
//! jitter and a life span. Everything derives from a seed, so tests can assert exact ranks.

use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr};

/// SplitMix64: tiny, deterministic, good enough for synthetic logs.
#[derive(Debug, Clone)]
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn normal(&mut self) -> f64 {
        let (u1, u2) = (self.unit().max(1e-12), self.unit());
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
    fn public_ip(&mut self) -> IpAddr {
        loop {
            let a = 1 + self.below(222) as u8;
            if matches!(a, 10 | 100 | 127 | 169 | 172 | 192 | 198 | 203) {
                continue;
            }
            let b = self.next().to_le_bytes();
            return IpAddr::V4(Ipv4Addr::new(a, b[0], b[1], 1 + b[2] % 254));
        }
    }
}

/// A beacon to inject.
#[derive(Debug, Clone, PartialEq)]
pub struct BeaconSpec {
    /// Infected internal host.
    pub src: IpAddr,
    /// C2 server.
    pub dst: IpAddr,
    /// C2 port.
    pub port: u16,
    /// Mean period, seconds.
    pub period_secs: f64,
    /// Uniform jitter as a fraction of the period (0.3 = ±30 %).
    pub jitter: f64,
    /// First active day, counted from the traffic start.
    pub start_day: u32,
    /// Days active.
    pub days: u32,
    /// Bytes sent per check-in (±10 %).
    pub bytes_out: u64,
}

/// A synthetic network to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct TrafficSpec {
    /// Seed of everything random.
    pub seed: u64,
    /// Start (epoch seconds, UTC); should be a midnight JST (15:00 UTC).
    pub start: i64,
    /// Length in days.
    pub days: u32,
    /// Internal hosts `10.1.0.1 ..`.
    pub hosts: u32,
    /// Normal browsing pairs.
    pub normal_pairs: u32,
    /// Benign update services, each polled three times a working day (no jitter) by about
    /// half the hosts.
    pub pollers: u32,
    /// Beacons to inject.
    pub beacons: Vec<BeaconSpec>,
}

struct Conn {
    ts: f64,
    src: IpAddr,
    dst: IpAddr,
    port: u16,
    duration: f64,
    out: u64,
    inb: u64,
}

/// Working-hour second (09:00–18:00 JST = 00:00–09:00 UTC) of a day.
fn office_time(rng: &mut Rng, day_start: f64) -> f64 {
    day_start + 15.0 * 3600.0 + 9.0 * 3600.0 + rng.unit() * 9.0 * 3600.0
}

fn is_weekday(start: i64, day: u32) -> bool {
    // Days since epoch of the JST date; 1970-01-01 was a Thursday (weekday 3 with Monday 0).
    let jst_day = (start + 9 * 3600) / 86_400 + i64::from(day);
    (jst_day + 3).rem_euclid(7) < 5
}

/// A Zeek TSV `conn.log` for `spec`, sorted by time.
pub fn synthesize_conn_log(spec: &TrafficSpec) -> String {
    let mut rng = Rng(spec.seed);
    let mut conns: Vec<Conn> = Vec::new();
    let host = |i: u64| IpAddr::V4(Ipv4Addr::new(10, 1, (i / 250) as u8, 1 + (i % 250) as u8));
    // Day d starts at start + d*86400 - 15h (midnight JST), so office hours add 15h + 9h.
    let day0 = spec.start as f64 - 15.0 * 3600.0;
    for p in 0..spec.normal_pairs {
        let src = host(rng.below(u64::from(spec.hosts)));
        let dst = rng.public_ip();
        let port = if rng.below(5) == 0 { 80 } else { 443 };
        let daily = p % 50 == 0;
        let active = if daily {
            spec.days
        } else {
            (1.0 + 40.0 * rng.unit().powi(4)).ceil() as u32
        };
        let first = rng.below(u64::from(spec.days.saturating_sub(active).max(1))) as u32;
        for k in 0..active {
            let day = if daily {
                k
            } else {
                first + rng.below(u64::from(active * 3)) as u32
            };
            if day >= spec.days || !is_weekday(spec.start, day) {
                continue;
            }
            let n = if daily {
                3 + rng.below(20)
            } else {
                1 + rng.below(6)
            };
            for _ in 0..n {
                conns.push(Conn {
                    ts: office_time(&mut rng, day0 + f64::from(day) * 86_400.0),
                    src,
                    dst,
                    port,
                    duration: (rng.normal() * 1.5).exp(),
                    out: (6.5 + 1.5 * rng.normal()).exp() as u64,
                    inb: (9.0 + 2.5 * rng.normal()).exp() as u64,
                });
            }
        }
    }
    for _ in 0..spec.pollers {
        // Update and licence services: polled by about half the PCs while they are on.
        let dst = rng.public_ip();
        let size = 300 + rng.below(400);
        for h in 0..u64::from(spec.hosts) {
            if rng.below(2) == 0 {
                continue;
            }
            let minute = rng.unit() * 3600.0;
            for day in 0..spec.days {
                if !is_weekday(spec.start, day) {
                    continue;
                }
                for slot in [0.0, 3.0, 6.0] {
                    conns.push(Conn {
                        ts: day0 + f64::from(day) * 86_400.0 + (24.0 + slot) * 3600.0 + minute,
                        src: host(h),
                        dst,
                        port: 443,
                        duration: 0.4,
                        out: size,
                        inb: 2000,
                    });
                }
            }
        }
    }
    for b in &spec.beacons {
        let end = spec.start as f64 + f64::from(b.start_day + b.days) * 86_400.0;
        let mut t =
            spec.start as f64 + f64::from(b.start_day) * 86_400.0 + rng.unit() * b.period_secs;
        while t < end {
            conns.push(Conn {
                ts: t,
                src: b.src,
                dst: b.dst,
                port: b.port,
                duration: 0.3 + rng.unit() * 0.2,
                out: (b.bytes_out as f64 * (0.9 + rng.unit() * 0.2)) as u64,
                inb: 400 + rng.below(100),
            });
            t += b.period_secs * (1.0 + b.jitter * (2.0 * rng.unit() - 1.0));
        }
    }
    conns.sort_by(|a, b| a.ts.total_cmp(&b.ts));
    let mut out = String::with_capacity(conns.len() * 160 + 1024);
    out.push_str("#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n");
    out.push_str("#open\t2026-01-01-00-00-00\n");
    out.push_str("#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\tlocal_orig\tlocal_resp\tmissed_bytes\thistory\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\ttunnel_parents\n");
    out.push_str("#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\tbool\tbool\tcount\tstring\tcount\tcount\tcount\tcount\tset[string]\n");
    for (i, c) in conns.iter().enumerate() {
        let service = if c.port == 443 {
            "ssl"
        } else if c.port == 80 {
            "http"
        } else {
            "-"
        };
        let _ = writeln!(
            out,
            "{:.6}\tC{:016x}\t{}\t{}\t{}\t{}\ttcp\t{}\t{:.6}\t{}\t{}\tSF\tT\tF\t0\tShADadFf\t{}\t{}\t{}\t{}\t-",
            c.ts,
            (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ spec.seed,
            c.src,
            49_152 + (i % 16_000),
            c.dst,
            c.port,
            service,
            c.duration,
            c.out,
            c.inb,
            c.out / 500 + 3,
            c.out + 160,
            c.inb / 1400 + 3,
            c.inb + 160,
        );
    }
    out.push_str("#close\t2027-01-01-00-00-00\n");
    out
}

/// The demo's network evidence: `network/conn.log`, two weeks of a 20-seat office with one PC
/// (10.1.0.23) beaconing every ~5 minutes (±20 %) to 203.0.113.77:443.
pub fn demo_files(seed: u64) -> Vec<(String, Vec<u8>)> {
    let spec = TrafficSpec {
        seed,
        start: 1_767_193_200, // 2026-01-01 00:00 JST
        days: 14,
        hosts: 20,
        normal_pairs: 300,
        pollers: 2,
        beacons: vec![BeaconSpec {
            src: IpAddr::V4(Ipv4Addr::new(10, 1, 0, 23)),
            dst: IpAddr::V4(Ipv4Addr::new(203, 0, 113, 77)),
            port: 443,
            period_secs: 300.0,
            jitter: 0.2,
            start_day: 3,
            days: 11,
            bytes_out: 620,
        }],
    };
    vec![(
        "network/conn.log".to_owned(),
        synthesize_conn_log(&spec).into_bytes(),
    )]
}
