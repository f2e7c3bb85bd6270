//! Every ransomware-scanner validator, the XOR recovery and the whole per-file judgement on
//! arbitrary bytes, whole and as a sampled view with holes: none may panic or loop.
#![no_main]

use ir110_ransomware::content::Content;
use ir110_ransomware::format::Format;
use ir110_ransomware::validate::validate;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let whole = Content::whole(data.to_vec());
    for f in Format::ALL {
        let _ = validate(f, &whole);
    }
    if data.len() > 64 {
        let cut = data.len() / 3;
        let sampled = Content { size: data.len() as u64 * 2, parts: vec![(0, data[..cut].to_vec()), (data.len() as u64, data[cut..].to_vec())] };
        for f in Format::ALL {
            let _ = validate(f, &sampled);
        }
    }
    let name = match data.first().map(|b| b % 4) {
        Some(0) => "report.xlsx.locked",
        Some(1) => "README.txt",
        Some(2) => "photo.jpg",
        _ => "data",
    };
    let _ = ir110_ransomware::judge_bytes(name, data.to_vec());
});
