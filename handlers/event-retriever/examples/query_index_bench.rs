//! What a whole paged query costs, with and without the by-type index, in one run:
//! `cargo run --release -p callflow-event-retriever --example query_index_bench -- [N] [MOTO_URL]`.
//!
//! Stores N events (default 100,000) over one UTC day: 7 common event types, `call.failed`
//! at 0.1 %, three directions, 1,000 calling numbers, 10 events per call. Then pages through
//! each filter (limit 500) twice: with the plan the store picks now (`after`) and with the
//! listing it used before the index (`before`: the by-call index for `callId`, every event of
//! the day otherwise), counting the S3 requests the SDK sends and the wall time, and checks
//! both return the same events. Against the embedded store, or against a moto server when its
//! URL is given (`moto_server -p PORT`).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use aws_sdk_s3::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_s3::config::{ConfigBag, Intercept, RuntimeComponents};
use callflow_core::store::QueryPlan;
use callflow_core::{
    BucketName, CallEvent, CallId, Direction, EventFilter, EventId, EventStore, EventType,
    IdempotencySource, IndexKey, PartyAddress, Principal, StoredEvent,
};
use callflow_s3store::{RunningStore, StoreConfig};
use futures::StreamExt;
use time::{Duration, OffsetDateTime};

const COMMON: [&str; 7] = [
    "call.initiated",
    "call.ringing",
    "call.answered",
    "call.held",
    "call.transferred",
    "queue.entered",
    "call.ended",
];
const RARE: &str = "call.failed";
const NUMBERS: usize = 1_000;
const EVENTS_PER_CALL: usize = 10;
const BUCKET: &str = "callflow-bench";

/// Counts the requests the SDK transmits, by kind (retries included).
#[derive(Debug, Default)]
struct RequestCounter {
    puts: AtomicUsize,
    gets: AtomicUsize,
    lists: AtomicUsize,
}

impl RequestCounter {
    fn snapshot(&self) -> [usize; 3] {
        [
            self.puts.load(Ordering::Relaxed),
            self.gets.load(Ordering::Relaxed),
            self.lists.load(Ordering::Relaxed),
        ]
    }
}

#[derive(Debug, Clone)]
struct CountingInterceptor(Arc<RequestCounter>);

impl Intercept for CountingInterceptor {
    fn name(&self) -> &'static str {
        "CountingInterceptor"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), aws_sdk_s3::error::BoxError> {
        let req = context.request();
        let counter = match req.method() {
            "PUT" => &self.0.puts,
            "GET" if req.uri().contains("list-type=2") => &self.0.lists,
            "GET" => &self.0.gets,
            _ => return Ok(()),
        };
        counter.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

fn event(i: usize, n: usize, day: OffsetDateTime) -> StoredEvent {
    let step = 86_400_000_000i64 / n as i64;
    let timestamp = day + Duration::microseconds(step * i as i64 + (i as i64 * 7919) % step.max(1));
    let kind = if i % 1000 == 999 {
        RARE
    } else {
        COMMON[i % COMMON.len()]
    };
    let direction = [Direction::Inbound, Direction::Outbound, Direction::Internal][i % 3];
    let from = format!("+1415555{:04}", (i * 7) % NUMBERS);
    StoredEvent {
        event_id: EventId::derive(timestamp, IdempotencySource::None).expect("in range"),
        event: CallEvent {
            call_id: CallId::parse(&format!("CA-{}", i / EVENTS_PER_CALL)).expect("call id"),
            event_type: EventType::parse(kind).expect("type"),
            timestamp,
            direction: Some(direction),
            from: Some(PartyAddress::parse(&from).expect("number")),
            to: Some(
                PartyAddress::parse(&format!("sip:agent{}@example.com", i % 50)).expect("sip"),
            ),
            sequence: None,
            attributes: None,
            payload: None,
        },
        received_at: timestamp,
        principal: Principal::new("bench").expect("principal"),
    }
}

/// Every page of a query; returns the ids, the requests (PUT, GET, LIST) and milliseconds.
async fn page_through(
    store: &EventStore,
    counter: &RequestCounter,
    plan: QueryPlan,
    filter: &EventFilter,
) -> (Vec<EventId>, usize, [usize; 3], f64) {
    let before = counter.snapshot();
    let start = Instant::now();
    let mut ids = Vec::new();
    let mut after = None;
    let mut pages = 0;
    loop {
        let page = store
            .query_with(plan, filter, after, 500)
            .await
            .expect("query");
        pages += 1;
        ids.extend(page.items.iter().map(|e| e.event_id));
        match page.next {
            Some(p) => after = Some(p),
            None => break,
        }
    }
    let elapsed = start.elapsed().as_secs_f64() * 1000.0;
    let now = counter.snapshot();
    let delta = [now[0] - before[0], now[1] - before[1], now[2] - before[2]];
    (ids, pages, delta, elapsed)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let moto = args.next();
    let counter = Arc::new(RequestCounter::default());
    let interceptor = CountingInterceptor(counter.clone());
    let dir = tempfile::tempdir()?;
    let mut _embedded = None;
    let (client, backend) = match &moto {
        Some(url) => {
            let conf = aws_sdk_s3::Config::builder()
                .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
                .region(aws_sdk_s3::config::Region::new("us-east-1"))
                .credentials_provider(aws_sdk_s3::config::Credentials::new(
                    "testing", "testing", None, None, "bench",
                ))
                .endpoint_url(url)
                .force_path_style(true)
                .interceptor(interceptor)
                .build();
            let client = aws_sdk_s3::Client::from_conf(conf);
            client.create_bucket().bucket(BUCKET).send().await?;
            (client, format!("moto at {url}"))
        }
        None => {
            let store = RunningStore::start(StoreConfig::new(dir.path().join("data"))).await?;
            store.ensure_bucket(BUCKET).await?;
            let conf = store
                .sdk_client()
                .config()
                .to_builder()
                .interceptor(interceptor)
                .build();
            _embedded = Some(store);
            (
                aws_sdk_s3::Client::from_conf(conf),
                "the embedded store".to_owned(),
            )
        }
    };
    let store = EventStore::new(
        client,
        BucketName::parse(BUCKET)?,
        IndexKey::new(vec![9; 32])?,
    )
    .with_read_concurrency(16);
    let day = time::macros::datetime!(2025-06-01 00:00 UTC);

    let start = Instant::now();
    let seeded: Vec<()> = futures::stream::iter(0..n)
        .map(|i| {
            let store = &store;
            async move {
                store.put_new(&event(i, n, day)).await.expect("store");
            }
        })
        .buffer_unordered(32)
        .collect()
        .await;
    let [puts, _, _] = counter.snapshot();
    println!(
        "{backend}: stored {} events in {:.1} s, {:.2} PUTs per event",
        seeded.len(),
        start.elapsed().as_secs_f64(),
        puts as f64 / n as f64
    );

    // A call in the middle of the day: its 10 events.
    let call = format!("CA-{}", n / EVENTS_PER_CALL / 2);
    let range_with = |f: &dyn Fn(&mut EventFilter)| {
        let mut filter = EventFilter {
            from: day,
            to: day + Duration::days(1),
            call_id: None,
            event_type: None,
            direction: None,
            from_number: None,
            to_number: None,
        };
        f(&mut filter);
        filter
    };
    let range = |f: fn(&mut EventFilter)| range_with(&f);
    let filters: Vec<(&str, EventFilter)> = vec![
        ("none", range(|_| {})),
        (
            "callId",
            range_with(&|f| f.call_id = CallId::parse(&call).ok()),
        ),
        (
            "eventType=call.ended",
            range(|f| f.event_type = EventType::parse("call.ended").ok()),
        ),
        (
            "eventType=call.failed (0.1 %)",
            range(|f| f.event_type = EventType::parse(RARE).ok()),
        ),
        (
            "direction=inbound",
            range(|f| f.direction = Some(Direction::Inbound)),
        ),
        (
            "fromNumber",
            range(|f| f.from_number = PartyAddress::parse("+14155550007").ok()),
        ),
    ];
    println!(
        "{:<30} {:>7} | {:>6} {:>8} {:>6} {:>9} | {:>6} {:>8} {:>6} {:>9} | {:>8}",
        "filter",
        "matches",
        "pages",
        "GETs",
        "LISTs",
        "ms",
        "pages",
        "GETs",
        "LISTs",
        "ms",
        "requests"
    );
    println!(
        "{:<30} {:>7} | {:^33} | {:^33} | {:>8}",
        "", "", "before (no by-type index)", "after", "ratio"
    );
    for (label, filter) in &filters {
        let old_plan = if filter.call_id.is_some() {
            QueryPlan::CallIndex
        } else {
            QueryPlan::Days
        };
        let (old_ids, old_pages, old, old_ms) =
            page_through(&store, &counter, old_plan, filter).await;
        let (new_ids, new_pages, new, new_ms) =
            page_through(&store, &counter, QueryPlan::for_filter(filter), filter).await;
        assert_eq!(
            old_ids, new_ids,
            "{label}: both plans return the same events"
        );
        let (old_req, new_req) = (old[1] + old[2], new[1] + new[2]);
        println!(
            "{label:<30} {:>7} | {old_pages:>6} {:>8} {:>6} {old_ms:>9.0} | {new_pages:>6} {:>8} {:>6} {new_ms:>9.0} | {:>7.1}x",
            new_ids.len(),
            old[1],
            old[2],
            new[1],
            new[2],
            old_req as f64 / new_req.max(1) as f64
        );
    }
    Ok(())
}
