//! Kernel releases against the affected range of an upstream fix: does the
//! kernel that printed a capture carry the fix of the bug whose signature a
//! finding shows?
//!
//! Releases are read as `uname -r` prints them (`6.8.0-rc7-euclean+`,
//! `6.6.23-1-lts`, `6.1.0-18-amd64`): the numeric `major.minor.patch` and an
//! optional `-rcN`. A release candidate of x.y comes before x.y.0.
//! Distribution kernels backport fixes without changing the version, so a
//! verdict of "affected" is by version only; the message says so.

use serde::Serialize;

/// `major.minor.patch` and the release candidate, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Version {
    /// `6` of `6.8.2`.
    pub major: u32,
    /// `8` of `6.8.2`.
    pub minor: u32,
    /// `2` of `6.8.2` (0 when not printed).
    pub patch: u32,
    /// `Some(7)` for `-rc7` (a release candidate of `major.minor`).
    pub rc: Option<u32>,
}

impl Version {
    /// Read a release string: `6.8.0-rc7-euclean+` is 6.8.0-rc7.
    pub(crate) fn parse(release: &str) -> Option<Version> {
        let (numbers, rest) = release
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .map_or((release, ""), |i| release.split_at(i));
        let mut it = numbers.split('.').filter(|s| !s.is_empty());
        let major = it.next()?.parse().ok()?;
        let minor = it.next()?.parse().ok()?;
        let patch = it.next().map_or(Some(0), |p| p.parse().ok())?;
        let rc = rest.strip_prefix("-rc").and_then(|r| {
            let end = r.find(|c: char| !c.is_ascii_digit()).unwrap_or(r.len());
            r[..end].parse().ok()
        });
        Some(Version {
            major,
            minor,
            patch,
            rc,
        })
    }

    /// Ordered as releases come out: x.y-rcN before x.y.0.
    fn key(self) -> (u32, u32, u32, u32) {
        (
            self.major,
            self.minor,
            self.patch,
            self.rc.unwrap_or(u32::MAX),
        )
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Version) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Version) -> std::cmp::Ordering {
        self.key().cmp(&other.key())
    }
}

/// Where a kernel stands against a fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Standing {
    /// Older than the change that introduced the bug.
    Predates,
    /// In an affected range: the bug is there.
    Affected,
    /// Carries the fix: a finding with the bug's signature is another bug.
    Fixed,
    /// The release could not be placed (unreadable, or between ranges we
    /// do not know, such as a release candidate of the fix's own cycle).
    Unknown,
}

/// A bug's range: introduced in `introduced`, fixed in each stable series
/// at the given version, and in mainline at `mainline` (a release
/// candidate of it may or may not have it before `mainline_rc`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    /// First release with the bug (`6.5`).
    pub introduced: (u32, u32),
    /// `(major, minor, first fixed patch)` per stable series with the
    /// backport; a series from `introduced` on that is not listed and comes
    /// before mainline never got it.
    pub stable_fixed: &'static [(u32, u32, u32)],
    /// The mainline release with the fix (`6.9`).
    pub mainline: (u32, u32),
    /// The first release candidate of `mainline` known to have the fix.
    pub mainline_rc: u32,
}

impl Range {
    /// Where `release` stands.
    pub(crate) fn standing(&self, release: &str) -> Standing {
        let Some(v) = Version::parse(release) else {
            return Standing::Unknown;
        };
        let series = (v.major, v.minor);
        if series < self.introduced {
            return Standing::Predates;
        }
        if series > self.mainline {
            return Standing::Fixed;
        }
        if series == self.mainline {
            return match v.rc {
                Some(rc) if rc < self.mainline_rc => Standing::Affected,
                _ => Standing::Fixed,
            };
        }
        // A release candidate of a series is before its stable updates.
        match self.stable_fixed.iter().find(|s| (s.0, s.1) == series) {
            Some(&(_, _, fixed)) if v.rc.is_none() && v.patch >= fixed => Standing::Fixed,
            _ => Standing::Affected,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const READ_RACE: Range = Range {
        introduced: (6, 5),
        stable_fixed: &[(6, 6, 24), (6, 7, 12), (6, 8, 3)],
        mainline: (6, 9),
        mainline_rc: 2,
    };

    #[test]
    fn versions() {
        let v = Version::parse("6.8.0-rc7-euclean+").unwrap();
        assert_eq!((v.major, v.minor, v.patch, v.rc), (6, 8, 0, Some(7)));
        let v = Version::parse("6.6.23-1-lts").unwrap();
        assert_eq!((v.major, v.minor, v.patch, v.rc), (6, 6, 23, None));
        let v = Version::parse("6.9").unwrap();
        assert_eq!((v.minor, v.patch), (9, 0));
        assert!(Version::parse("rolling").is_none());
        assert!(Version::parse("6").is_none());
        assert!(Version::parse("6.8-rc3").unwrap() < Version::parse("6.8.0").unwrap());
    }

    #[test]
    fn the_read_race_range() {
        use Standing::*;
        for (release, want) in [
            ("6.8.0-rc7-euclean+", Affected),
            ("6.8.2", Affected),
            ("6.8.3", Fixed),
            ("6.6.23-1-lts", Affected),
            ("6.6.24", Fixed),
            ("6.7.11", Affected),
            ("6.7.12-arch1-1", Fixed),
            ("6.5.13", Affected),
            ("6.5.0-rc1", Affected),
            ("6.4.16", Predates),
            ("6.1.0-18-amd64", Predates),
            ("5.15.0-100-generic", Predates),
            ("6.9.0-rc1", Affected),
            ("6.9.0-rc2", Fixed),
            ("6.9.1", Fixed),
            ("6.12.3", Fixed),
            ("7.0.0", Fixed),
            ("6.6.0-rc4", Affected),
            ("garbage", Unknown),
        ] {
            assert_eq!(READ_RACE.standing(release), want, "{release}");
        }
    }
}
