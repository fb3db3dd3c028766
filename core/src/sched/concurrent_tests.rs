use super::*;
use crate::trace::Recorder;
use std::time::Duration;

fn clock() -> VirtualClock {
    VirtualClock::new(ClockPolicy::AdvanceOnSleep, Duration::ZERO, 0)
}

/// A task: waits for each deadline in turn and logs `(name, time)` when
/// each wait completes.
async fn task(
    name: &'static str,
    deadlines: Vec<u64>,
    waits: Waits,
    clock: VirtualClock,
    log: Arc<Mutex<Vec<(&'static str, u64)>>>,
) {
    for deadline in deadlines {
        waits.wait(&clock, deadline).await;
        log.lock().unwrap().push((name, clock.peek()));
    }
}

/// Polls the futures in order, each one step per round, until all are
/// done: a minimal stand-in for a Store running several tasks.
async fn join_all(futures: Vec<Pin<Box<dyn Future<Output = ()>>>>) {
    let mut futures: Vec<_> = futures.into_iter().map(Some).collect();
    std::future::poll_fn(move |cx| {
        let mut all_done = true;
        for slot in futures.iter_mut() {
            if let Some(future) = slot {
                if future.as_mut().poll(cx).is_ready() {
                    *slot = None;
                } else {
                    all_done = false;
                }
            }
        }
        if all_done {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
    .await
}

fn race(deadlines: &[(&'static str, Vec<u64>)]) -> (Vec<(&'static str, u64)>, u64) {
    let clock = clock();
    let waits = Waits::new();
    let log = Arc::new(Mutex::new(Vec::new()));
    let tasks = deadlines
        .iter()
        .map(|(name, d)| {
            Box::pin(task(
                name,
                d.clone(),
                waits.clone(),
                clock.clone(),
                log.clone(),
            )) as Pin<Box<dyn Future<Output = ()>>>
        })
        .collect();
    run(join_all(tasks), &waits, &clock).unwrap();
    assert_eq!(waits.pending(), 0, "a completed wait stayed registered");
    let log = log.lock().unwrap().clone();
    (log, clock.peek())
}

#[test]
fn the_earliest_timer_fires_first_whatever_the_start_order() {
    let (log, now) = race(&[("slow", vec![20]), ("fast", vec![10])]);
    assert_eq!(log, [("fast", 10), ("slow", 20)]);
    assert_eq!(now, 20);
}

#[test]
fn equal_deadlines_complete_in_registration_order_at_the_same_time() {
    let (log, _) = race(&[("a", vec![7]), ("b", vec![7]), ("c", vec![3, 7])]);
    assert_eq!(log, [("c", 3), ("a", 7), ("b", 7), ("c", 7)]);
}

#[test]
fn interleaved_timers_follow_virtual_time() {
    let (log, now) = race(&[("a", vec![5, 15, 25]), ("b", vec![10, 20])]);
    assert_eq!(log, [("a", 5), ("b", 10), ("a", 15), ("b", 20), ("a", 25)]);
    assert_eq!(now, 25);
}

#[test]
fn a_due_wait_completes_without_moving_time() {
    let clock = clock();
    clock.advance_to(100);
    let waits = Waits::new();
    run(waits.wait(&clock, 40), &waits, &clock).unwrap();
    assert_eq!(clock.peek(), 100);
}

#[test]
fn time_moves_only_when_idle() {
    // A task that keeps waking itself (busy, not idle) for a few rounds
    // before waiting: time must not move while it is busy.
    let clock = clock();
    let waits = Waits::new();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (c, w, s) = (clock.clone(), waits.clone(), seen.clone());
    let mut rounds = 0;
    let busy = std::future::poll_fn(move |cx| {
        s.lock().unwrap().push(c.peek());
        rounds += 1;
        if rounds < 4 {
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        Poll::Ready(())
    });
    let timer = waits.wait(&clock, 50);
    run(join_all(vec![Box::pin(timer), Box::pin(busy)]), &w, &clock).unwrap();
    assert_eq!(*seen.lock().unwrap(), [0, 0, 0, 0]);
    assert_eq!(clock.peek(), 50);
}

#[test]
fn idle_with_no_wait_is_a_deadlock_not_a_hang() {
    let clock = clock();
    let waits = Waits::new();
    // One timer, then a wait nobody will ever end.
    let future = async {
        waits.wait(&clock, 10).await;
        std::future::pending::<()>().await
    };
    assert_eq!(run(future, &waits, &clock), Err(Deadlock));
    assert_eq!(clock.peek(), 10);
    assert!(Deadlock.to_string().starts_with("deadlock"));
}

#[test]
fn a_dropped_wait_unregisters_and_does_not_move_time() {
    let clock = clock();
    let waits = Waits::new();
    let future = async {
        // Poll a long wait once, then abandon it (a cancelled subtask).
        let mut long = Box::pin(waits.wait(&clock, 1_000));
        std::future::poll_fn(|cx| {
            let _ = long.as_mut().poll(cx);
            Poll::Ready(())
        })
        .await;
        assert_eq!(waits.pending(), 1);
        drop(long);
        waits.wait(&clock, 30).await;
    };
    run(future, &waits, &clock).unwrap();
    assert_eq!(clock.peek(), 30);
    assert_eq!(waits.pending(), 0);
}

#[test]
fn frozen_time_completes_every_wait_at_once() {
    let clock = VirtualClock::new(ClockPolicy::Frozen, Duration::ZERO, 9);
    let waits = Waits::new();
    run(waits.wait(&clock, u64::MAX), &waits, &clock).unwrap();
    assert_eq!(clock.peek(), 9);
}

#[test]
fn saturated_deadlines_fire_at_the_end_of_time() {
    let (log, now) = race(&[("max", vec![u64::MAX]), ("one", vec![1])]);
    assert_eq!(log, [("one", 1), ("max", u64::MAX)]);
    assert_eq!(now, u64::MAX);
}

#[test]
fn moving_time_is_recorded() {
    let recorder = Recorder::new(8);
    let clock = clock().recorded_by(recorder.clone());
    let waits = Waits::new();
    run(waits.wait(&clock, 12), &waits, &clock).unwrap();
    let trace = recorder.trace();
    assert_eq!(trace.calls(), 1);
    assert_eq!(trace.events()[0].to_string(), "timer-fired(12) -> 12");
}

/// A pending wait that time has passed (a clock read under `Tick`, say)
/// does not complete on a poll of its own: only when the idle step fires
/// it, so an earlier-called wait that was due first goes first.
#[test]
fn a_passed_wait_completes_only_when_fired() {
    let clock = clock();
    let waits = Waits::new();
    let mut wait = Box::pin(waits.wait(&clock, 10));
    let waker = Waker::from(Arc::new(Woken(AtomicBool::new(false))));
    let mut cx = Context::from_waker(&waker);
    assert!(wait.as_mut().poll(&mut cx).is_pending());
    clock.advance_to(20);
    assert!(
        wait.as_mut().poll(&mut cx).is_pending(),
        "completed unfired"
    );
    assert_eq!(waits.fire_earliest(&clock), Some(10));
    assert_eq!(clock.peek(), 20, "firing a passed wait moved time");
    assert!(wait.as_mut().poll(&mut cx).is_ready());
    assert_eq!(waits.pending(), 0);
}

/// Turns whose tickets were taken in the order a, b, c, polled first in
/// the order `poll_order` (as a runtime might, in any order): the log of
/// their completions.
fn turns_polled_in(poll_order: [usize; 3]) -> Vec<&'static str> {
    let clock = clock();
    let waits = Waits::new();
    let log = Arc::new(Mutex::new(Vec::new()));
    let tickets = [waits.ticket(), waits.ticket(), waits.ticket()];
    let names = ["a", "b", "c"];
    let tasks = poll_order
        .iter()
        .map(|&i| {
            let turn = waits.turn(&clock, tickets[i]);
            let log = log.clone();
            Box::pin(async move {
                turn.await;
                log.lock().unwrap().push(names[i]);
            }) as Pin<Box<dyn Future<Output = ()>>>
        })
        .collect();
    run(join_all(tasks), &waits, &clock).unwrap();
    assert_eq!(waits.pending(), 0);
    log.lock().unwrap().clone()
}

#[test]
fn turns_complete_in_ticket_order_whatever_order_they_are_polled_in() {
    for order in [[0, 1, 2], [2, 1, 0], [1, 2, 0]] {
        assert_eq!(turns_polled_in(order), ["a", "b", "c"], "polled {order:?}");
    }
}

#[test]
fn a_turn_never_completes_in_its_first_poll_and_does_not_move_time() {
    for policy in [ClockPolicy::AdvanceOnSleep, ClockPolicy::Frozen] {
        let clock = VirtualClock::new(policy, Duration::ZERO, 0);
        clock.advance_to(50);
        let waits = Waits::new();
        let mut turn = pin!(waits.turn(&clock, waits.ticket()));
        let waker = Waker::from(Arc::new(Woken(AtomicBool::new(false))));
        let mut cx = Context::from_waker(&waker);
        assert!(turn.as_mut().poll(&mut cx).is_pending(), "{policy:?}");
        assert_eq!(waits.pending(), 1);
        assert_eq!(waits.fire_earliest(&clock), Some(clock.peek()));
        assert!(turn.as_mut().poll(&mut cx).is_ready(), "{policy:?}");
        let expected = if policy == ClockPolicy::Frozen { 0 } else { 50 };
        assert_eq!(clock.peek(), expected);
    }
}

/// A turn ready at 5 beside timers due at 5 and 10: `early_ticket` takes
/// its ticket before any timer is started, else once its own wait is over.
fn turn_beside_timers(early_ticket: bool) -> Vec<(&'static str, u64)> {
    let clock = clock();
    let waits = Waits::new();
    let log = Arc::new(Mutex::new(Vec::new()));
    let timer = |name: &'static str, deadline: u64| {
        let (waits, clock, log) = (waits.clone(), clock.clone(), log.clone());
        Box::pin(async move {
            waits.wait(&clock, deadline).await;
            log.lock().unwrap().push((name, clock.peek()));
        }) as Pin<Box<dyn Future<Output = ()>>>
    };
    let turn = {
        let (waits, clock, log) = (waits.clone(), clock.clone(), log.clone());
        let early = early_ticket.then(|| waits.ticket());
        Box::pin(async move {
            waits.wait(&clock, 5).await;
            let ticket = early.unwrap_or_else(|| waits.ticket());
            waits.turn(&clock, ticket).await;
            log.lock().unwrap().push(("turn", clock.peek()));
        }) as Pin<Box<dyn Future<Output = ()>>>
    };
    let tasks = vec![timer("ten", 10), turn, timer("five", 5)];
    run(join_all(tasks), &waits, &clock).unwrap();
    log.lock().unwrap().clone()
}

#[test]
fn a_turn_and_a_timer_due_together_complete_in_the_order_they_were_started() {
    assert_eq!(
        turn_beside_timers(true),
        [("turn", 5), ("five", 5), ("ten", 10)]
    );
    assert_eq!(
        turn_beside_timers(false),
        [("five", 5), ("turn", 5), ("ten", 10)]
    );
}
