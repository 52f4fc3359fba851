//! Randomness and number formatting without allocation.

/// splitmix64: small, fast, and good enough for test data.
#[derive(Debug, Clone)]
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        ((self.next() as u128 * n as u128) >> 64) as u64
    }

    /// Uniform in `lo..=hi`.
    pub(crate) fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    /// True with probability `pct` percent.
    pub(crate) fn pct(&mut self, pct: u64) -> bool {
        self.below(100) < pct
    }

    pub(crate) fn frac(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// One element of a non-empty slice.
    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

pub(crate) fn put_u64(buf: &mut Vec<u8>, mut v: u64) {
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    buf.extend_from_slice(&tmp[i..]);
}

fn digits(mut v: u64) -> usize {
    let mut n = 1;
    while v >= 10 {
        v /= 10;
        n += 1;
    }
    n
}

/// Right-aligned in `width` with `pad`.
pub(crate) fn put_u64_right(buf: &mut Vec<u8>, v: u64, width: usize, pad: u8) {
    for _ in digits(v)..width {
        buf.push(pad);
    }
    put_u64(buf, v);
}

/// Left-aligned in `width` (spaces after).
pub(crate) fn put_u64_left(buf: &mut Vec<u8>, v: u64, width: usize) {
    put_u64(buf, v);
    for _ in digits(v)..width {
        buf.push(b' ');
    }
}

/// `"%5lu.%06lu"` of a µs count.
pub(crate) fn put_secs(buf: &mut Vec<u8>, us: u64) {
    put_u64_right(buf, us / 1_000_000, 5, b' ');
    buf.push(b'.');
    put_u64_right(buf, us % 1_000_000, 6, b'0');
}

/// `[%5lu.%06lu] `, the console's printk time prefix.
pub(crate) fn put_printk_time(buf: &mut Vec<u8>, us: u64) {
    buf.push(b'[');
    put_secs(buf, us);
    buf.extend_from_slice(b"] ");
}

pub(crate) fn put_hex(buf: &mut Vec<u8>, v: u64, width: usize) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for i in (0..width).rev() {
        buf.push(HEX[((v >> (4 * i)) & 0xf) as usize]);
    }
}

/// A lower-case `%pU` uuid.
pub(crate) fn uuid_text(r: &mut Rng) -> Vec<u8> {
    let (a, b) = (r.next(), r.next());
    let mut v = Vec::with_capacity(36);
    put_hex(&mut v, a >> 32, 8);
    v.push(b'-');
    put_hex(&mut v, (a >> 16) & 0xffff, 4);
    v.push(b'-');
    put_hex(&mut v, 0x4000 | (a & 0x0fff), 4);
    v.push(b'-');
    put_hex(&mut v, 0x8000 | ((b >> 48) & 0x3fff), 4);
    v.push(b'-');
    put_hex(&mut v, b & 0xffff_ffff_ffff, 12);
    v
}
