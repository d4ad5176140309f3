use tally_core::api::{
    BudgetInput, DraftEstimate, DraftRequest, ExportResult, LedgerQuery, LedgerRowView, PriceInput,
    PricesView, SpendView, UsageReport,
};

use super::{CommandResult, EngineState, blocking, ipc};

/// What the spend meter shows.
#[tauri::command]
pub async fn spend_summary(engine: EngineState<'_>) -> CommandResult<SpendView> {
    blocking(&engine, move |engine| engine.spend_summary()).await
}

#[tauri::command]
pub async fn budget_set(engine: EngineState<'_>, budget: BudgetInput) -> CommandResult<SpendView> {
    blocking(&engine, move |engine| engine.budget_set(budget)).await
}

#[tauri::command]
pub async fn budget_clear(engine: EngineState<'_>) -> CommandResult<SpendView> {
    blocking(&engine, move |engine| engine.budget_clear()).await
}

/// Hides this month's budget alerts from the banner.
#[tauri::command]
pub async fn budget_alerts_dismiss(engine: EngineState<'_>) -> CommandResult<SpendView> {
    blocking(&engine, move |engine| engine.budget_alerts_dismiss()).await
}

#[tauri::command]
pub async fn prices_list(engine: EngineState<'_>) -> CommandResult<PricesView> {
    blocking(&engine, move |engine| engine.prices_list()).await
}

#[tauri::command]
pub async fn price_set(engine: EngineState<'_>, price: PriceInput) -> CommandResult<PricesView> {
    blocking(&engine, move |engine| engine.price_set(price)).await
}

#[tauri::command]
pub async fn price_reset(engine: EngineState<'_>, model: String) -> CommandResult<PricesView> {
    blocking(&engine, move |engine| engine.price_reset(&model)).await
}

/// The pre-send estimate of what the composer holds.
#[tauri::command]
pub async fn cost_estimate(
    engine: EngineState<'_>,
    draft: DraftRequest,
) -> CommandResult<DraftEstimate> {
    let engine = engine.inner().clone();
    engine.estimate_draft(draft).await.map_err(ipc)
}

#[tauri::command]
pub async fn usage_report(engine: EngineState<'_>) -> CommandResult<UsageReport> {
    blocking(&engine, move |engine| engine.usage_report()).await
}

#[tauri::command]
pub async fn ledger_list(
    engine: EngineState<'_>,
    query: LedgerQuery,
) -> CommandResult<Vec<LedgerRowView>> {
    blocking(&engine, move |engine| engine.ledger_page(&query)).await
}

/// Writes the ledger as CSV into the user's Downloads folder (or home folder).
#[tauri::command]
pub async fn ledger_export<R: tauri::Runtime>(
    app: tauri::AppHandle<R>,
    engine: EngineState<'_>,
    query: LedgerQuery,
) -> CommandResult<ExportResult> {
    let folder = super::save_folder(&app)?;
    blocking(&engine, move |engine| engine.ledger_export(&query, &folder)).await
}
