//! `set-times`, `set-times-at`, `stat` and `stat-at` through WASI 0.3: a
//! file's times set to an instant, left, set to now, and an instant before
//! 1970 refused; each stat printed (access, modification and status-change
//! times as seconds.nanoseconds).

use test_programs_p3_guests::wasi::clocks::system_clock::Instant;
use test_programs_p3_guests::wasi::filesystem::types::{
    DescriptorFlags, DescriptorStat, NewTimestamp, OpenFlags, PathFlags,
};
use test_programs_p3_guests::*;

fn time(t: Option<Instant>) -> String {
    t.map(|t| format!("{}.{:09}", t.seconds, t.nanoseconds))
        .unwrap_or_else(|| "none".into())
}

fn line(what: &str, stat: &DescriptorStat) -> String {
    format!(
        "{what}: atime {} mtime {} ctime {}\n",
        time(stat.data_access_timestamp),
        time(stat.data_modification_timestamp),
        time(stat.status_change_timestamp)
    )
}

struct Times;

impl exports::wasi::cli::run::Guest for Times {
    async fn run() -> Result<(), ()> {
        let dir = preopen("/");
        let mut out = String::new();
        write_file(&dir, "f", b"x".to_vec()).await.expect("write");
        let at = |s| {
            NewTimestamp::Timestamp(Instant {
                seconds: s,
                nanoseconds: 5,
            })
        };
        dir.set_times_at(
            PathFlags::empty(),
            "f".into(),
            at(1_000),
            NewTimestamp::NoChange,
        )
        .await
        .expect("set-times-at");
        let stat = dir
            .stat_at(PathFlags::empty(), "f".into())
            .await
            .expect("stat-at");
        out.push_str(&line("after set-times-at", &stat));

        let file = dir
            .open_at(
                PathFlags::empty(),
                "f".into(),
                OpenFlags::empty(),
                DescriptorFlags::WRITE,
            )
            .await
            .expect("open");
        file.set_times(NewTimestamp::NoChange, NewTimestamp::Now)
            .await
            .expect("set-times");
        out.push_str(&line("after set-times", &file.stat().await.expect("stat")));

        let refused = dir
            .set_times_at(
                PathFlags::empty(),
                "f".into(),
                at(-1),
                NewTimestamp::NoChange,
            )
            .await;
        out.push_str(&format!("before 1970: {refused:?}\n"));
        print(out.into_bytes()).await;
        Ok(())
    }
}

export!(Times);
