//! The play queue: items with stable ids, the order they play in, shuffle and repeat.
//!
//! The queue keeps two orders of the same items: the *original* order, as the listener built it
//! (loaded, inserted, appended, moved), and the *play* order, which is the original one when
//! shuffle is off and a shuffled one when it is on. Snapshots, positions in commands and the
//! current index are all in play order.
//!
//! **Architecture Invariant:** with shuffle off, the play order is the original order.
//!
//! **Architecture Invariant:** with shuffle on, every item plays once before any plays again:
//! turning shuffle on shuffles only what is still to come, and repeat-all draws a fresh
//! shuffle of every item for each new cycle.
//!
//! The queue is pure logic, driven by the engine; randomness comes from a seed passed in, so
//! its tests are deterministic.

use std::collections::HashMap;

use crate::decode::Decoder;
use crate::replaygain::GainInfo;
use crate::source::Source;

/// The id the player gives an item when it is queued. It stays the same through every edit,
/// so a caller can name an item in commands while the queue changes around it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ItemId(pub u64);

/// What plays after the end of a track.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Repeat {
    /// The queue plays once and ends.
    #[default]
    Off,
    /// The current track plays again and again. [`PlayerCmd::Next`](crate::PlayerCmd::Next)
    /// still moves on (wrapping from the last track to the first).
    One,
    /// After the last track the queue starts over (reshuffled when shuffle is on).
    All,
}

/// One item of a [`QueueSnapshot`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueueEntry {
    /// The item's id.
    pub id: ItemId,
    /// The caller's key for it ([`Source::with_key`]), if it has one.
    pub key: Option<i64>,
    /// Its source's path or label.
    pub name: String,
}

/// The whole queue at one moment, as [`PlayerEvent::QueueChanged`](crate::PlayerEvent) sends
/// it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueueSnapshot {
    /// Every item, in play order: what has played, the current item, then what is to come.
    pub items: Vec<QueueEntry>,
    /// The index in `items` of the current item (playing, paused, or the one `Play` starts);
    /// `None` for an empty queue or one that has played to its end.
    pub current: Option<usize>,
    /// Whether shuffle is on.
    pub shuffle: bool,
    /// The repeat mode.
    pub repeat: Repeat,
}

/// How an item's decoder is to be made: from a source, or by rewinding one that played it.
pub(crate) enum Opening {
    /// A source opened for the first time (a path can be opened any number of times).
    Fresh(Source),
    /// The decoder of a one-time stream source that already played; it seeks back.
    Reused(Box<Decoder>),
}

/// One queued item.
pub(crate) struct Item {
    pub(crate) key: Option<i64>,
    pub(crate) name: String,
    /// The ReplayGain values the caller gave; without them, the file's tags are read.
    pub(crate) gain: Option<GainInfo>,
    is_path: bool,
    /// A path source stays here; a stream source is taken when first opened.
    source: Option<Source>,
    /// The decoder of a stream source that has played, given back by its decode thread.
    spent: Option<Box<Decoder>>,
}

impl Item {
    fn new(source: Source) -> Self {
        Item {
            key: source.key(),
            name: source.name(),
            gain: source.gain(),
            is_path: source.is_path(),
            source: Some(source),
            spent: None,
        }
    }

    /// Whether the item's bytes come from a file (so it can be opened again at will).
    pub(crate) fn is_path(&self) -> bool {
        self.is_path
    }

    /// What to decode the item from, if anything is left to decode it from: a path opens
    /// afresh, a stream opens once and is then rewound through its returned decoder.
    pub(crate) fn opening(&mut self) -> Option<Opening> {
        if let Some(copy) = self.source.as_ref().and_then(Source::reopen) {
            return Some(Opening::Fresh(copy));
        }
        if let Some(decoder) = self.spent.take() {
            return Some(Opening::Reused(decoder));
        }
        self.source.take().map(Opening::Fresh)
    }

    /// Takes back the decoder of a stream source, so the item can play again.
    pub(crate) fn give_back(&mut self, decoder: Box<Decoder>) {
        if !self.is_path {
            self.spent = Some(decoder);
        }
    }
}

/// A place in the play order: a position in the current play order, or (when repeat-all and
/// shuffle are on and the current cycle is ending) in the next cycle's order, drawn ahead so
/// the engine can open its first track before the join.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Cursor {
    pos: usize,
    next_cycle: bool,
}

/// What removing items did to the current item.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Removed {
    /// The current item is still there (or there was none).
    CurrentKept,
    /// The current item was removed; the item that followed it, if any, is current now.
    CurrentRemoved,
}

/// The queue: see the module docs.
pub(crate) struct Queue {
    items: HashMap<ItemId, Item>,
    order: Vec<ItemId>,
    play: Vec<ItemId>,
    current: Option<usize>,
    shuffle: bool,
    repeat: Repeat,
    /// The order of the next repeat-all cycle with shuffle on, once something has looked past
    /// the end of this one. Dropped by every edit.
    next_cycle: Option<Vec<ItemId>>,
    rng: SplitMix64,
    next_id: u64,
}

impl Queue {
    /// An empty queue whose shuffles come from `seed`.
    pub(crate) fn new(seed: u64) -> Self {
        Queue {
            items: HashMap::new(),
            order: Vec::new(),
            play: Vec::new(),
            current: None,
            shuffle: false,
            repeat: Repeat::Off,
            next_cycle: None,
            rng: SplitMix64(seed),
            next_id: 1,
        }
    }

    /// The number of items.
    pub(crate) fn len(&self) -> usize {
        self.play.len()
    }

    pub(crate) fn item(&self, id: ItemId) -> Option<&Item> {
        self.items.get(&id)
    }

    pub(crate) fn item_mut(&mut self, id: ItemId) -> Option<&mut Item> {
        self.items.get_mut(&id)
    }

    pub(crate) fn repeat(&self) -> Repeat {
        self.repeat
    }

    /// The current item.
    pub(crate) fn current_id(&self) -> Option<ItemId> {
        self.current.and_then(|pos| self.play.get(pos).copied())
    }

    /// The current item's place.
    pub(crate) fn current_cursor(&self) -> Option<Cursor> {
        self.current.map(|pos| Cursor {
            pos,
            next_cycle: false,
        })
    }

    /// The item at `cursor`.
    pub(crate) fn id_at(&self, cursor: Cursor) -> Option<ItemId> {
        self.sequence(cursor.next_cycle).get(cursor.pos).copied()
    }

    fn sequence(&self, next_cycle: bool) -> &[ItemId] {
        match (&self.next_cycle, next_cycle) {
            (Some(cycle), true) => cycle,
            _ => &self.play,
        }
    }

    /// The whole queue as subscribers see it.
    pub(crate) fn snapshot(&self) -> QueueSnapshot {
        QueueSnapshot {
            items: self
                .play
                .iter()
                .filter_map(|id| {
                    self.items.get(id).map(|item| QueueEntry {
                        id: *id,
                        key: item.key,
                        name: item.name.clone(),
                    })
                })
                .collect(),
            current: self.current,
            shuffle: self.shuffle,
            repeat: self.repeat,
        }
    }

    fn add(&mut self, sources: Vec<Source>) -> Vec<ItemId> {
        sources
            .into_iter()
            .map(|source| {
                let id = ItemId(self.next_id);
                self.next_id += 1;
                self.items.insert(id, Item::new(source));
                id
            })
            .collect()
    }

    /// Replaces the queue with `sources`, `start` current (clamped to the last). With shuffle
    /// on, `start` comes first and the rest are shuffled after it.
    pub(crate) fn load(&mut self, sources: Vec<Source>, start: usize) {
        self.items.clear();
        self.next_cycle = None;
        self.order = self.add(sources);
        self.play = self.order.clone();
        if self.play.is_empty() {
            self.current = None;
            return;
        }
        let start = start.min(self.play.len() - 1);
        if self.shuffle {
            let first = self.play.remove(start);
            self.rng.shuffle(&mut self.play);
            self.play.insert(0, first);
            self.current = Some(0);
        } else {
            self.current = Some(start);
        }
    }

    /// Queues `sources` right after the current item (at the front when there is none).
    pub(crate) fn insert_next(&mut self, sources: Vec<Source>) {
        let ids = self.add(sources);
        self.next_cycle = None;
        let at = self.current.map_or(0, |pos| pos + 1);
        self.play.splice(at..at, ids.iter().copied());
        if self.shuffle {
            let in_order = self
                .current_id()
                .and_then(|current| self.order.iter().position(|id| *id == current))
                .map_or(0, |pos| pos + 1);
            self.order.splice(in_order..in_order, ids);
        } else {
            self.order.clone_from(&self.play);
        }
    }

    /// Queues `sources` at the end.
    pub(crate) fn append(&mut self, sources: Vec<Source>) {
        let ids = self.add(sources);
        self.next_cycle = None;
        self.play.extend_from_slice(&ids);
        self.order.extend(ids);
    }

    /// Removes the items `ids` names (unknown ids are ignored).
    pub(crate) fn remove(&mut self, ids: &[ItemId]) -> Removed {
        let doomed: Vec<ItemId> = ids
            .iter()
            .copied()
            .filter(|id| self.items.contains_key(id))
            .collect();
        if doomed.is_empty() {
            return Removed::CurrentKept;
        }
        self.next_cycle = None;
        let current_id = self.current_id();
        let current_pos = self.current;
        for id in &doomed {
            self.items.remove(id);
        }
        let survivors_before = current_pos.map(|pos| {
            self.play[..pos]
                .iter()
                .filter(|id| self.items.contains_key(id))
                .count()
        });
        self.play.retain(|id| self.items.contains_key(id));
        self.order.retain(|id| self.items.contains_key(id));
        match current_id {
            Some(current) if !self.items.contains_key(&current) => {
                // The item after the removed one takes its place.
                self.current = survivors_before.filter(|pos| *pos < self.play.len());
                Removed::CurrentRemoved
            }
            Some(current) => {
                self.current = self.play.iter().position(|id| *id == current);
                Removed::CurrentKept
            }
            None => Removed::CurrentKept,
        }
    }

    /// Moves `id` to index `to` of the play order (clamped to the end); the current item stays
    /// current wherever it ends up. Returns false for an unknown id.
    pub(crate) fn move_item(&mut self, id: ItemId, to: usize) -> bool {
        let Some(from) = self.play.iter().position(|item| *item == id) else {
            return false;
        };
        self.next_cycle = None;
        let current_id = self.current_id();
        self.play.remove(from);
        let to = to.min(self.play.len());
        self.play.insert(to, id);
        self.current = current_id.and_then(|current| self.play.iter().position(|i| *i == current));
        if !self.shuffle {
            self.order.clone_from(&self.play);
        }
        true
    }

    /// Drops every item after the current one (every item, when there is none).
    pub(crate) fn clear_upcoming(&mut self) {
        self.next_cycle = None;
        let keep = self.current.map_or(0, |pos| pos + 1);
        for id in self.play.split_off(keep) {
            self.items.remove(&id);
        }
        self.order.retain(|id| self.items.contains_key(id));
    }

    /// Makes `id` current. Returns false for an unknown id.
    pub(crate) fn set_current(&mut self, id: ItemId) -> bool {
        match self.play.iter().position(|item| *item == id) {
            Some(pos) => {
                self.current = Some(pos);
                true
            }
            None => false,
        }
    }

    /// Makes the first item current (after the queue has ended). Returns false when empty.
    pub(crate) fn restart(&mut self) -> bool {
        self.current = (!self.play.is_empty()).then_some(0);
        self.current.is_some()
    }

    /// The queue has played to its end: nothing is current.
    pub(crate) fn finish(&mut self) {
        self.current = None;
    }

    /// Makes the item before the current one current. Returns false at the start.
    pub(crate) fn go_back(&mut self) -> bool {
        match self.current {
            Some(pos) if pos > 0 => {
                self.current = Some(pos - 1);
                true
            }
            _ => false,
        }
    }

    /// Turns shuffle on (shuffling what is still to come) or off (back to the original order,
    /// going on after the current item).
    pub(crate) fn set_shuffle(&mut self, on: bool) {
        if on == self.shuffle {
            return;
        }
        self.shuffle = on;
        self.next_cycle = None;
        let current_id = self.current_id();
        if on {
            let from = self.current.map_or(0, |pos| pos + 1);
            let rng = &mut self.rng;
            rng.shuffle(&mut self.play[from..]);
        } else {
            self.play.clone_from(&self.order);
            self.current =
                current_id.and_then(|current| self.play.iter().position(|id| *id == current));
        }
    }

    pub(crate) fn set_repeat(&mut self, repeat: Repeat) {
        self.repeat = repeat;
    }

    /// What follows the item at `at`: the same item under repeat-one (unless `manual`, a skip
    /// by the listener, which moves on as repeat-all does), the next one in play order, and past
    /// the end, nothing or (repeating) the start of the next cycle.
    pub(crate) fn successor(&mut self, at: Cursor, manual: bool) -> Option<Cursor> {
        if self.repeat == Repeat::One && !manual {
            return self.id_at(at).map(|_| at);
        }
        if at.pos + 1 < self.sequence(at.next_cycle).len() {
            return Some(Cursor {
                pos: at.pos + 1,
                next_cycle: at.next_cycle,
            });
        }
        if self.repeat == Repeat::Off || self.play.is_empty() {
            return None;
        }
        if !self.shuffle {
            return Some(Cursor {
                pos: 0,
                next_cycle: false,
            });
        }
        if self.next_cycle.is_none() {
            let mut cycle = self.play.clone();
            self.rng.shuffle(&mut cycle);
            // The new cycle does not open with the track that closed the last one.
            if cycle.len() > 1 && cycle.first() == self.play.last() {
                let other = 1 + self.rng.below(cycle.len() - 1);
                cycle.swap(0, other);
            }
            self.next_cycle = Some(cycle);
        }
        Some(Cursor {
            pos: 0,
            next_cycle: true,
        })
    }

    /// Makes the item at `cursor` current, entering the next cycle if it is in it.
    pub(crate) fn advance_to(&mut self, cursor: Cursor) {
        if cursor.next_cycle
            && let Some(cycle) = self.next_cycle.take()
        {
            self.play = cycle;
        }
        self.current = (cursor.pos < self.play.len()).then_some(cursor.pos);
    }
}

/// SplitMix64 (Steele, Lea and Flood, "Fast splittable pseudorandom number generators", 2014):
/// small, fast, and good enough to shuffle a queue.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`); the modulo bias is below 2^-40 for any queue length.
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// Fisher-Yates.
    fn shuffle(&mut self, items: &mut [ItemId]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sources(names: &[&str]) -> Vec<Source> {
        names.iter().map(|name| Source::path(*name)).collect()
    }

    fn names(queue: &Queue) -> Vec<String> {
        queue
            .snapshot()
            .items
            .into_iter()
            .map(|entry| entry.name)
            .collect()
    }

    fn current_name(queue: &Queue) -> Option<String> {
        queue
            .current_id()
            .map(|id| queue.item(id).unwrap().name.clone())
    }

    fn id_of(queue: &Queue, name: &str) -> ItemId {
        queue
            .snapshot()
            .items
            .into_iter()
            .find(|entry| entry.name == name)
            .unwrap()
            .id
    }

    /// Follows the queue from the current item through `count` natural successors.
    fn play_on(queue: &mut Queue, count: usize) -> Vec<String> {
        let mut played = Vec::new();
        for _ in 0..count {
            let Some(cursor) = queue.current_cursor() else {
                break;
            };
            played.push(current_name(queue).unwrap());
            match queue.successor(cursor, false) {
                Some(next) => queue.advance_to(next),
                None => {
                    queue.finish();
                    break;
                }
            }
        }
        played
    }

    #[test]
    fn edits_keep_ids_and_the_current_item() {
        let mut queue = Queue::new(1);
        queue.load(sources(&["a", "b", "c"]), 1);
        let b = id_of(&queue, "b");
        queue.insert_next(sources(&["x"]));
        queue.append(sources(&["z"]));
        assert_eq!(names(&queue), ["a", "b", "x", "c", "z"]);
        assert_eq!(queue.snapshot().current, Some(1));
        assert_eq!(id_of(&queue, "b"), b);

        // Moving the current item carries the current index with it.
        assert!(queue.move_item(b, 4));
        assert_eq!(names(&queue), ["a", "x", "c", "z", "b"]);
        assert_eq!(current_name(&queue).as_deref(), Some("b"));
        assert!(!queue.move_item(ItemId(999), 0));

        // Removing the current item makes the one after it current; at the end, none.
        assert!(queue.move_item(b, 1));
        assert_eq!(queue.remove(&[b]), Removed::CurrentRemoved);
        assert_eq!(current_name(&queue).as_deref(), Some("x"));
        let z = id_of(&queue, "z");
        queue.set_current(z);
        assert_eq!(queue.remove(&[z, ItemId(999)]), Removed::CurrentRemoved);
        assert_eq!(queue.snapshot().current, None);

        queue.restart();
        queue.clear_upcoming();
        assert_eq!(names(&queue), ["a"]);
    }

    #[test]
    fn shuffle_plays_every_item_once_per_cycle_and_reshuffles() {
        let letters = ["a", "b", "c", "d", "e", "f", "g"];
        let mut queue = Queue::new(42);
        queue.set_shuffle(true);
        queue.set_repeat(Repeat::All);
        queue.load(sources(&letters), 3);
        assert_eq!(current_name(&queue).as_deref(), Some("d"));
        let played = play_on(&mut queue, 3 * letters.len());
        let mut cycles = Vec::new();
        for cycle in played.chunks(letters.len()) {
            let mut sorted = cycle.to_vec();
            sorted.sort();
            assert_eq!(sorted, letters, "cycle {cycle:?}");
            cycles.push(cycle.to_vec());
        }
        assert_eq!(cycles[0][0], "d");
        assert!(cycles[0] != cycles[1] || cycles[1] != cycles[2]);
        for pair in cycles.windows(2) {
            assert_ne!(
                pair[0].last(),
                pair[1].first(),
                "a track repeated at the seam"
            );
        }
    }

    #[test]
    fn shuffle_off_returns_to_the_original_order_after_the_current_item() {
        let mut queue = Queue::new(7);
        queue.load(sources(&["a", "b", "c", "d", "e"]), 0);
        queue.set_shuffle(true);
        // What has played stays where it is; the rest is shuffled.
        assert_eq!(names(&queue)[0], "a");
        let c = id_of(&queue, "c");
        queue.set_current(c);
        queue.set_shuffle(false);
        assert_eq!(names(&queue), ["a", "b", "c", "d", "e"]);
        assert_eq!(play_on(&mut queue, 10), ["c", "d", "e"]);
    }

    #[test]
    fn repeat_one_repeats_unless_skipped_and_repeat_all_wraps() {
        let mut queue = Queue::new(3);
        queue.load(sources(&["a", "b"]), 1);
        queue.set_repeat(Repeat::One);
        let here = queue.current_cursor().unwrap();
        assert_eq!(queue.successor(here, false), Some(here));
        let skipped = queue.successor(here, true).unwrap();
        assert_eq!(queue.id_at(skipped), Some(id_of(&queue, "a")));
        queue.set_repeat(Repeat::Off);
        assert_eq!(queue.successor(here, false), None);
        queue.set_repeat(Repeat::All);
        assert_eq!(play_on(&mut queue, 3), ["b", "a", "b"]);
    }
}
