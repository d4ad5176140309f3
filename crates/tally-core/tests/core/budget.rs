//! The money path end to end: ledger totals against what the server billed, the hard
//! stop under concurrent sends, alerts once per threshold per month across restarts,
//! unknown prices, the pre-send estimate, and the usage page reconciling with the meter.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use tally_core::api::{
    BudgetInput, DraftRequest, ErrorCode, LedgerQuery, MeterLevel, PriceInput, SendRequest,
};
use tally_core::{ChatEvent, Engine, Notice};
use tally_spend::{ModelCatalog, NANOS_PER_USD, TokenUsage, cost, worst_case_cost};

use crate::{DAY, Events, NOV_23, Setup, ask, mock};

fn budget(amount: &str, hard_stop: bool) -> BudgetInput {
    BudgetInput {
        amount: amount.into(),
        reset_day: 1,
        thresholds: vec![50, 80, 100],
        hard_stop,
    }
}

fn notices(engine: &Engine) -> Arc<Mutex<Vec<Notice>>> {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    engine.on_notice(move |n| sink.lock().unwrap().push(n));
    seen
}

fn alerts(seen: &Mutex<Vec<Notice>>) -> Vec<u16> {
    seen.lock()
        .unwrap()
        .iter()
        .filter_map(|n| match n {
            Notice::BudgetAlert(a) => Some(a.threshold),
            Notice::SpendUpdated(_)
            | Notice::StorageProblem(_)
            | Notice::ConversationTitled(_)
            | Notice::McpServerChanged(_)
            | Notice::SyncChanged(_) => None,
        })
        .collect()
}

/// 1,000 requests with scripted usage (cached, cache-write and reasoning tokens included)
/// across several models, one of them with a long-prompt tier that some prompts cross:
/// the ledger's token totals equal what the server reported, and its cost equals the
/// catalog's price of each reported usage, to the nano-USD.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ledger_totals_equal_what_the_server_billed() {
    let server = mock("ok", 100, 0).await;
    let setup = Setup::new(&server);
    let engine = setup.open();
    let catalog = ModelCatalog::builtin();
    let mut rng = fastrand::Rng::with_seed(5);
    let models = [
        "gpt-4o-mini",
        "gpt-4o",
        "gpt-4.1-nano",
        "o4-mini",
        "gpt-5-mini",
        "gpt-5.4",
    ];
    let mut expected_cost = 0_i64;
    let mut long_prompts = 0;
    let mut conversations = Vec::new();
    for model in models {
        let events = Events::default();
        let request = SendRequest {
            model: Some(model.into()),
            ..ask(None, "[mock:usage:10/0/5/0] hi")
        };
        engine.send(request, events.sink()).await.unwrap();
        let price = catalog.lookup(model).unwrap();
        expected_cost += cost(&usage(10, 0, 5, 0), price);
        conversations.push((model, started_conversation(&events)));
    }
    for i in 0..1_000 - models.len() {
        let (model, conversation) = conversations[i % conversations.len()];
        let prompt = rng.u64(1..400_000);
        let cached = rng.u64(0..=prompt) / 128 * 128;
        let writes = rng.u64(0..=prompt - cached) / 128 * 128;
        let completion = rng.u64(1..30_000);
        let reasoning = if model.starts_with('o') || model.starts_with("gpt-5") {
            rng.u64(0..=completion)
        } else {
            0
        };
        let marker =
            format!("[mock:usage:{prompt}/{cached}/{completion}/{reasoning}/{writes}] #{i}");
        let events = Events::default();
        engine
            .send(ask(Some(conversation), &marker), events.sink())
            .await
            .unwrap();
        assert!(matches!(
            events.last(),
            ChatEvent::Done {
                estimated: false,
                ..
            }
        ));
        let price = catalog.lookup(model).unwrap();
        let reported = TokenUsage {
            cache_write: writes,
            ..usage(prompt, cached, completion, reasoning)
        };
        expected_cost += cost(&reported, price);
        long_prompts += u64::from(price.long_prompt.is_some_and(|t| t.applies_to(prompt)));
    }
    assert!(
        long_prompts > 30,
        "only {long_prompts} prompts over the line"
    );
    let billed = server.stats().usage_reported;
    assert_eq!(billed.replies, 1_000);
    let rows = engine.ledger_page(&LedgerQuery {
        limit: Some(1_000),
        ..Default::default()
    });
    let rows = rows.unwrap();
    assert_eq!(rows.len(), 1_000);
    let sum = |f: fn(&tally_core::api::LedgerRowView) -> u64| rows.iter().map(f).sum::<u64>();
    assert_eq!(sum(|r| r.prompt_tokens), billed.prompt);
    assert_eq!(sum(|r| r.cached_tokens), billed.cached);
    assert_eq!(sum(|r| r.cache_write_tokens), billed.cache_write);
    assert!(billed.cache_write > 0);
    assert_eq!(sum(|r| r.completion_tokens), billed.completion);
    assert_eq!(sum(|r| r.reasoning_tokens), billed.reasoning);
    let ledger_cost: i64 = rows.iter().map(|r| r.cost_nanos.unwrap()).sum();
    assert_eq!(ledger_cost, expected_cost);
    // The meter, the usage page and the CSV export all say the same, to the nano-USD.
    let spend = engine.spend_summary().unwrap();
    assert_eq!(spend.spent_nanos, expected_cost);
    assert_eq!((spend.requests, spend.estimated_nanos), (1_000, 0));
    let report = engine.usage_report().unwrap();
    assert_eq!(report.spend, spend);
    assert_eq!(
        report.days.iter().map(|d| d.cost_nanos).sum::<i64>(),
        expected_cost
    );
    assert_eq!(report.months.last().unwrap().cost_nanos, expected_cost);
    assert_eq!(
        report.by_model.iter().map(|m| m.cost_nanos).sum::<i64>(),
        expected_cost
    );
    assert_eq!(report.by_model.len(), models.len());
    let export = engine
        .ledger_export(&LedgerQuery::default(), &setup.dir.path().join("exports"))
        .unwrap();
    assert_eq!(export.rows, 1_000);
    let mut csv = csv::Reader::from_path(&export.path).unwrap();
    let headers = csv.headers().unwrap().clone();
    let cost_column = headers.iter().position(|h| h == "cost_usd").unwrap();
    let csv_nanos: i64 = csv
        .records()
        .map(|r| tally_spend::parse_usd(&r.unwrap()[cost_column]).unwrap())
        .sum();
    assert_eq!(csv_nanos, expected_cost);
}

fn usage(prompt: u64, cached: u64, completion: u64, reasoning: u64) -> TokenUsage {
    TokenUsage {
        prompt,
        cached_prompt: cached,
        cache_write: 0,
        completion,
        reasoning,
        web_searches: 0,
    }
}

fn started_conversation(events: &Events) -> i64 {
    match events.all()[0] {
        ChatEvent::Started {
            conversation_id, ..
        } => conversation_id,
        ref other => panic!("expected Started, got {other:?}"),
    }
}

/// With a hard stop, concurrent sends reserve their worst case before leaving: the month
/// ends at most one request's worst case over the budget, refused messages are not
/// written, and "send this one anyway" goes through.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hard_stop_holds_under_concurrent_sends() {
    // Slow replies keep every request in flight at once.
    let server = mock(&"word ".repeat(40), 20, 20).await;
    let setup = Setup::new(&server);
    let engine = setup.open();
    let price = ModelCatalog::builtin()
        .lookup("gpt-4o-mini")
        .unwrap()
        .clone();
    // One reply costs ~40 µUSD; the worst case of one request (16k output) ~0.01 USD.
    let worst = worst_case_cost(100, u64::from(price.max_output), 0, &price);
    let monthly = 3 * worst;
    engine
        .budget_set(budget(&tally_core_usd(monthly), true))
        .unwrap();

    let mut results = Vec::new();
    for round in 0..6 {
        let sends = (0..10).map(|i| {
            let engine = engine.clone();
            tokio::spawn(async move {
                let events = Events::default();
                let text = format!("round {round} message {i}");
                engine.send(ask(None, &text), events.sink()).await
            })
        });
        let outcomes = futures_util::future::join_all(sends).await;
        let allowed = outcomes
            .iter()
            .filter(|o| o.as_ref().unwrap().is_ok())
            .count();
        for outcome in outcomes {
            if let Err(e) = outcome.unwrap() {
                assert_eq!(e.code(), ErrorCode::BudgetExceeded);
                assert!(e.to_string().contains("monthly budget"), "{e}");
            }
        }
        results.push(allowed);
    }
    // Each reservation is about a third of the budget: at most 4 fit in flight at once.
    assert!(results.iter().all(|n| *n <= 4), "{results:?}");
    assert!(results[0] >= 1, "{results:?}");
    let spend = engine.spend_summary().unwrap();
    assert!(spend.spent_nanos <= monthly + worst, "{spend:?}");
    let sent: usize = results.iter().sum();
    assert_eq!(spend.requests as usize, sent);
    // Refused messages were never written: one conversation per allowed send.
    assert_eq!(crate::recent(&engine).len(), sent);

    // "Send this one anyway" passes the hard stop ($0.03 of prompt)...
    let events = Events::default();
    let request = SendRequest {
        allow_over_budget: Some(true),
        edit_of: None,
        settings: None,
        ..ask(None, "[mock:usage:200000/0/0/0] expensive")
    };
    engine.send(request, events.sink()).await.unwrap();
    assert!(matches!(events.last(), ChatEvent::Done { .. }));
    assert!(engine.spend_summary().unwrap().spent_nanos >= monthly);
    // ...after which everything is refused...
    let refused = engine
        .send(ask(None, "one more"), Events::default().sink())
        .await
        .unwrap_err();
    assert_eq!(refused.code(), ErrorCode::BudgetExceeded);
    assert_eq!(engine.spend_summary().unwrap().level, MeterLevel::Over);
    // ...until the user raises the budget.
    engine
        .budget_set(budget(&tally_core_usd(monthly * 10), true))
        .unwrap();
    engine
        .send(ask(None, "one more"), Events::default().sink())
        .await
        .unwrap();
}

/// nano-USD as the dollars a user would type.
fn tally_core_usd(nanos: i64) -> String {
    format!("{}.{:09}", nanos / NANOS_PER_USD, nanos % NANOS_PER_USD)
}

/// Each threshold alerts once per budget month, also across restarts, and again in the
/// next month; dismissing hides the banner's alerts without repeating them.
#[tokio::test]
async fn each_threshold_alerts_once_per_month_across_restarts() {
    let server = mock("ok", 100, 0).await;
    let setup = Setup::new(&server);
    let engine = setup.open();
    let seen = notices(&engine);
    let price = ModelCatalog::builtin()
        .lookup("gpt-4o-mini")
        .unwrap()
        .clone();
    // One scripted request: 1M prompt tokens of gpt-4o-mini = $0.15.
    let one = cost(&usage(1_000_000, 0, 0, 0), &price);
    let marker = "[mock:usage:1000000/0/0/0] go";
    engine.budget_set(budget("0.40", false)).unwrap();
    let send = |engine: Arc<Engine>| async move {
        engine
            .send(ask(None, marker), Events::default().sink())
            .await
            .unwrap()
    };
    send(engine.clone()).await; // $0.15: 37.5%
    assert_eq!(alerts(&seen), [0u16; 0]);
    send(engine.clone()).await; // $0.30: 75%
    assert_eq!(alerts(&seen), [50]);
    let spend = engine.spend_summary().unwrap();
    assert_eq!(spend.spent_nanos, 2 * one);
    assert_eq!(spend.level, MeterLevel::Notice);
    assert_eq!(spend.alerts.len(), 1);
    assert!(spend.alerts[0].message.contains("50%"), "{spend:?}");
    assert!(spend.alerts[0].message.contains("$0.40"), "{spend:?}");
    // Restart: nothing repeats, the undismissed alert is still there for the banner.
    drop(engine);
    let engine = setup.open();
    let seen = notices(&engine);
    assert_eq!(engine.spend_summary().unwrap().alerts.len(), 1);
    send(engine.clone()).await; // $0.45: 112%
    assert_eq!(alerts(&seen), [80, 100]);
    send(engine.clone()).await;
    assert_eq!(alerts(&seen), [80, 100], "no repeats in the same month");
    let dismissed = engine.budget_alerts_dismiss().unwrap();
    assert!(dismissed.alerts.is_empty());
    assert_eq!(dismissed.level, MeterLevel::Over);
    // A new budget month: December 1 in Berlin.
    setup.now.store(NOV_23 + 8 * DAY, Ordering::SeqCst);
    let december = engine.spend_summary().unwrap();
    assert_eq!(
        (december.spent_nanos, december.level),
        (0, MeterLevel::Calm)
    );
    assert_eq!(december.last_day, "2026-12-31");
    send(engine.clone()).await;
    send(engine.clone()).await;
    assert_eq!(alerts(&seen), [80, 100, 50]);
    // Every notice was followed by the meter it changed.
    assert!(matches!(
        seen.lock().unwrap().last(),
        Some(Notice::SpendUpdated(_))
    ));
}

/// A model with no known price is metered in tokens, shown as unpriced (never $0), and
/// costed once the user sets its price.
#[tokio::test]
async fn unknown_models_are_metered_in_tokens_until_priced() {
    let server = mock("ok", 100, 0).await;
    let setup = Setup::new(&server);
    let engine = setup.open();
    let request = SendRequest {
        model: Some("llama3-local".into()),
        ..ask(None, "[mock:usage:1000/0/500/0] hi")
    };
    let events = Events::default();
    engine.send(request, events.sink()).await.unwrap();
    assert!(matches!(events.last(), ChatEvent::Done { cost: None, .. }));
    let spend = engine.spend_summary().unwrap();
    assert_eq!((spend.spent_nanos, spend.unpriced_requests), (0, 1));
    let prices = engine.prices_list().unwrap();
    assert_eq!(prices.unpriced_models, ["llama3-local"]);
    let estimate = engine
        .estimate_draft(DraftRequest {
            tools: None,
            conversation_id: Some(started_conversation(&events)),
            model: None,
            text: "next".into(),
            attachments: None,
        })
        .await
        .unwrap();
    assert_eq!(estimate.max_cost_nanos, None);

    let refused = engine
        .price_set(PriceInput {
            model: "llama3-local".into(),
            input: "one dollar".into(),
            cached_input: String::new(),
            output: "2".into(),
            context_window: 8_192,
            max_output: 2_048,
        })
        .unwrap_err();
    assert_eq!(refused.code(), ErrorCode::InvalidInput);
    assert!(refused.to_string().contains("one dollar"), "{refused}");
    let prices = engine
        .price_set(PriceInput {
            model: "llama3-local".into(),
            input: "1".into(),
            cached_input: String::new(),
            output: "2".into(),
            context_window: 8_192,
            max_output: 2_048,
        })
        .unwrap();
    assert!(prices.unpriced_models.is_empty());
    assert!(
        prices
            .models
            .iter()
            .any(|m| m.model == "llama3-local" && m.user_set)
    );
    // 1000 × $1/M + 500 × $2/M = $0.002
    let spend = engine.spend_summary().unwrap();
    assert_eq!((spend.spent_nanos, spend.unpriced_requests), (2_000_000, 0));
    // Overriding a shipped price applies to the next request; resetting restores it.
    engine
        .price_set(PriceInput {
            model: "gpt-4o-mini".into(),
            input: "0".into(),
            cached_input: String::new(),
            output: "0".into(),
            context_window: 128_000,
            max_output: 16_384,
        })
        .unwrap();
    let free = Events::default();
    engine.send(ask(None, "free"), free.sink()).await.unwrap();
    assert!(matches!(free.last(), ChatEvent::Done { cost: Some(0), .. }));
    let reset = engine.price_reset("gpt-4o-mini").unwrap();
    let mini = reset
        .models
        .iter()
        .find(|m| m.model == "gpt-4o-mini")
        .unwrap();
    assert_eq!((mini.input_nanos, mini.user_set), (150_000_000, false));
}

/// The estimate counts exactly what would be sent (the server agrees on the prompt
/// tokens) and follows the conversation as it grows.
#[tokio::test]
async fn pre_send_estimate_is_exact_and_incremental() {
    let server = mock("A reply of a few words.", 100, 0).await;
    let setup = Setup::new(&server);
    let engine = setup.open();
    let mut conversation = None;
    for text in [
        "First question, in plain words.",
        "数学の質問です 🧮 and some code: `fn main() {}`",
        "   lots   of   spaces\n\n\nand lines   ",
    ] {
        let draft = DraftRequest {
            tools: None,
            conversation_id: conversation,
            model: None,
            text: text.into(),
            attachments: None,
        };
        let estimate = engine.estimate_draft(draft).await.unwrap();
        let events = Events::default();
        engine
            .send(ask(conversation, text), events.sink())
            .await
            .unwrap();
        conversation = Some(started_conversation(&events));
        let prompt_tokens = events
            .all()
            .iter()
            .find_map(|e| match e {
                ChatEvent::Usage { prompt_tokens, .. } => Some(*prompt_tokens),
                _ => None,
            })
            .unwrap();
        assert_eq!(estimate.input_tokens, prompt_tokens, "{text}");
        let price = ModelCatalog::builtin()
            .lookup("gpt-4o-mini")
            .unwrap()
            .clone();
        assert_eq!(
            estimate.min_cost_nanos,
            Some(worst_case_cost(prompt_tokens, 0, 0, &price))
        );
        assert_eq!(
            estimate.max_cost_nanos,
            Some(worst_case_cost(prompt_tokens, 16_384, 0, &price))
        );
        assert!(!estimate.unusual);
    }
    // A huge paste is unusual.
    let paste = DraftRequest {
        tools: None,
        conversation_id: conversation,
        model: None,
        text: "lorem ipsum dolor sit amet ".repeat(200_000),
        attachments: None,
    };
    let estimate = engine.estimate_draft(paste).await.unwrap();
    assert!(estimate.input_tokens > 1_000_000, "{estimate:?}");
    assert!(estimate.unusual);
}

#[tokio::test]
async fn the_estimate_shows_the_long_prompt_jump_before_it_is_sent() {
    let server = mock("ok", 100, 0).await;
    let setup = Setup::new(&server);
    let engine = setup.open();
    let estimate = |model: &str, text: String| {
        engine.estimate_draft_now(&DraftRequest {
            tools: None,
            conversation_id: None,
            model: Some(model.into()),
            text,
            attachments: None,
        })
    };
    let price = ModelCatalog::builtin().lookup("gpt-5.4").unwrap().clone();
    let short = estimate("gpt-5.4", "A short question.".into()).unwrap();
    let tier = short
        .long_prompt
        .clone()
        .expect("gpt-5.4 has a long-prompt tier");
    assert_eq!(
        (
            tier.over_input_tokens,
            tier.input_percent,
            tier.output_percent
        ),
        (272_000, 200, 150)
    );
    assert!(!tier.crossed);
    // Under the line: the usual $2.50 per million input tokens.
    assert_eq!(
        short.min_cost_nanos,
        Some(short.input_tokens as i64 * 2_500)
    );

    let long = estimate("gpt-5.4", "a ".repeat(300_000)).unwrap();
    assert!(long.input_tokens > 272_000, "{}", long.input_tokens);
    assert!(long.long_prompt.as_ref().unwrap().crossed);
    // Over it: the whole request at twice the input rate ($5 per million: 5,000 nano-USD
    // a token), as the ledger will bill it.
    assert_eq!(
        long.min_cost_nanos,
        Some(worst_case_cost(long.input_tokens, 0, 0, &price))
    );
    assert_eq!(long.min_cost_nanos, Some(long.input_tokens as i64 * 5_000));

    let mini = estimate("gpt-5.4-mini", "a ".repeat(300_000)).unwrap();
    assert_eq!(mini.long_prompt, None, "gpt-5.4-mini has no tier");
}

#[tokio::test]
async fn budget_input_is_checked_in_plain_words() {
    let server = mock("ok", 100, 0).await;
    let setup = Setup::new(&server);
    let engine = setup.open();
    for (input, words) in [
        (budget("ten", false), "not an amount"),
        (budget("0", false), "more than $0"),
        (
            BudgetInput {
                reset_day: 0,
                ..budget("10", false)
            },
            "day from 1 to 31",
        ),
    ] {
        let error = engine.budget_set(input).unwrap_err();
        assert_eq!(error.code(), ErrorCode::InvalidInput);
        assert!(error.to_string().contains(words), "{error}");
    }
    let spend = engine
        .budget_set(BudgetInput {
            reset_day: 31,
            thresholds: vec![90, 25],
            ..budget("12.5", true)
        })
        .unwrap();
    let set = spend.budget.unwrap();
    assert_eq!(set.monthly_nanos, 12_500_000_000);
    assert_eq!(set.thresholds, [25, 90]);
    assert!(set.hard_stop);
    // Reset day 31 in November falls on the 30th: the period started on Oct 31.
    assert_eq!(spend.last_day, "2026-11-29");
    let cleared = engine.budget_clear().unwrap();
    assert_eq!((cleared.budget, cleared.level), (None, MeterLevel::None));
}
