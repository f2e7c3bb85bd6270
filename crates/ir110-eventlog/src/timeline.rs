//! Sorting a stream of lines by key in bounded memory: an external merge sort.
//!
//! Lines are kept in memory until `budget` bytes are held; then they are sorted and written to
//! an anonymous temporary file (a *run*, deleted by the OS when closed). At the end the runs and
//! what is left in memory are merged with a heap, one line per run in memory at a time. So peak
//! memory is about `budget` whatever the number of lines, and a timeline of any size comes out
//! sorted (Hayabusa keeps the whole timeline in memory to sort it; Chainsaw does not sort).

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Seek, SeekFrom, Write};

use crate::EventlogError;

/// One keyed line. Keys compare as bytes; the line must not contain a newline.
type Item = (String, String);

/// Collects keyed lines and gives them back sorted by key (then by line).
#[derive(Debug)]
pub struct ExternalSorter {
    budget: usize,
    held: usize,
    items: Vec<Item>,
    runs: Vec<File>,
    len: u64,
}

impl ExternalSorter {
    /// A sorter that spills to temporary files past `budget` bytes of held lines.
    pub fn new(budget: usize) -> Self {
        ExternalSorter {
            budget: budget.max(1),
            held: 0,
            items: Vec::new(),
            runs: Vec::new(),
            len: 0,
        }
    }

    /// Adds a line (without newline) under `key` (without tab or newline).
    pub fn push(&mut self, key: String, line: String) -> Result<(), EventlogError> {
        // Approximate heap use: the texts plus the two `String` headers.
        self.held += key.len() + line.len() + 48;
        self.items.push((key, line));
        self.len += 1;
        if self.held >= self.budget {
            self.spill()?;
        }
        Ok(())
    }

    /// Number of lines pushed.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether nothing was pushed.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Number of runs written to disk so far.
    pub fn spilled_runs(&self) -> usize {
        self.runs.len()
    }

    fn spill(&mut self) -> Result<(), EventlogError> {
        self.items.sort_unstable();
        let file = tempfile::tempfile().map_err(EventlogError::Spill)?;
        let mut w = BufWriter::new(file);
        for (k, l) in self.items.drain(..) {
            w.write_all(k.as_bytes())
                .and_then(|()| w.write_all(b"\t"))
                .and_then(|()| w.write_all(l.as_bytes()))
                .and_then(|()| w.write_all(b"\n"))
                .map_err(EventlogError::Spill)?;
        }
        let mut file = w
            .into_inner()
            .map_err(|e| EventlogError::Spill(e.into_error()))?;
        file.seek(SeekFrom::Start(0))
            .map_err(EventlogError::Spill)?;
        self.runs.push(file);
        self.held = 0;
        Ok(())
    }

    /// Calls `f` with every line in key order. Stops at the first error `f` returns.
    pub fn drain(
        mut self,
        f: &mut dyn FnMut(&str) -> Result<(), EventlogError>,
    ) -> Result<(), EventlogError> {
        self.items.sort_unstable();
        if self.runs.is_empty() {
            for (_, line) in &self.items {
                f(line)?;
            }
            return Ok(());
        }
        let mut readers: Vec<std::io::Lines<BufReader<File>>> = self
            .runs
            .drain(..)
            .map(|r| BufReader::with_capacity(64 * 1024, r).lines())
            .collect();
        let mut memory = self.items.into_iter();
        // Heap of (key, line, source); source == readers.len() is the in-memory run.
        let mem_source = readers.len();
        let mut heap: BinaryHeap<Reverse<(String, String, usize)>> = BinaryHeap::new();
        let next_from = |readers: &mut Vec<std::io::Lines<BufReader<File>>>,
                         memory: &mut std::vec::IntoIter<Item>,
                         source: usize|
         -> Result<Option<(String, String)>, EventlogError> {
            if source == mem_source {
                return Ok(memory.next());
            }
            let Some(reader) = readers.get_mut(source) else {
                return Ok(None);
            };
            match reader.next() {
                None => Ok(None),
                Some(Err(e)) => Err(EventlogError::Spill(e)),
                Some(Ok(text)) => {
                    let (k, l) = text.split_once('\t').unwrap_or(("", text.as_str()));
                    Ok(Some((k.to_owned(), l.to_owned())))
                }
            }
        };
        for source in 0..=mem_source {
            if let Some((k, l)) = next_from(&mut readers, &mut memory, source)? {
                heap.push(Reverse((k, l, source)));
            }
        }
        while let Some(Reverse((_, line, source))) = heap.pop() {
            f(&line)?;
            if let Some((k, l)) = next_from(&mut readers, &mut memory, source)? {
                heap.push(Reverse((k, l, source)));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_across_spilled_runs() {
        let mut s = ExternalSorter::new(200);
        // A permutation of 0..500.
        for i in 0..500u32 {
            let k = (i * 7919) % 500;
            s.push(format!("{k:05}"), format!("line {k}")).unwrap();
        }
        assert!(s.spilled_runs() > 5);
        assert_eq!(s.len(), 500);
        let mut out = Vec::new();
        s.drain(&mut |l| {
            out.push(l.to_owned());
            Ok(())
        })
        .unwrap();
        let expected: Vec<String> = (0..500).map(|k| format!("line {k}")).collect();
        assert_eq!(out, expected);
    }

    #[test]
    fn in_memory_only() {
        let mut s = ExternalSorter::new(1 << 20);
        for k in ["b", "a", "c"] {
            s.push(k.to_owned(), k.to_uppercase()).unwrap();
        }
        let mut out = String::new();
        s.drain(&mut |l| {
            out.push_str(l);
            Ok(())
        })
        .unwrap();
        assert_eq!((out.as_str(), 0), ("ABC", 0));
    }
}
