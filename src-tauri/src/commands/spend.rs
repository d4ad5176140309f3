use tally_core::api::{
    BudgetInput, DraftEstimate, DraftRequest, ExportResult, LedgerQuery, LedgerRowView, PriceInput,
    PricesView, SpendView, UsageReport,
};

use super::{CommandResult, EngineState, ipc};

/// What the spend meter shows.
#[tauri::command]
pub async fn spend_summary(engine: EngineState<'_>) -> CommandResult<SpendView> {
    engine.spend_summary().map_err(ipc)
}

#[tauri::command]
pub async fn budget_set(engine: EngineState<'_>, budget: BudgetInput) -> CommandResult<SpendView> {
    engine.budget_set(budget).map_err(ipc)
}

#[tauri::command]
pub async fn budget_clear(engine: EngineState<'_>) -> CommandResult<SpendView> {
    engine.budget_clear().map_err(ipc)
}

/// Hides this month's budget alerts from the banner.
#[tauri::command]
pub async fn budget_alerts_dismiss(engine: EngineState<'_>) -> CommandResult<SpendView> {
    engine.budget_alerts_dismiss().map_err(ipc)
}

#[tauri::command]
pub async fn prices_list(engine: EngineState<'_>) -> CommandResult<PricesView> {
    engine.prices_list().map_err(ipc)
}

#[tauri::command]
pub async fn price_set(engine: EngineState<'_>, price: PriceInput) -> CommandResult<PricesView> {
    engine.price_set(price).map_err(ipc)
}

#[tauri::command]
pub async fn price_reset(engine: EngineState<'_>, model: String) -> CommandResult<PricesView> {
    engine.price_reset(&model).map_err(ipc)
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
    engine.usage_report().map_err(ipc)
}

#[tauri::command]
pub async fn ledger_list(
    engine: EngineState<'_>,
    query: LedgerQuery,
) -> CommandResult<Vec<LedgerRowView>> {
    engine.ledger_page(&query).map_err(ipc)
}

/// Writes the ledger as CSV into the user's Downloads folder (or home folder).
#[tauri::command]
pub async fn ledger_export<R: tauri::Runtime>(
    app: tauri::AppHandle<R>,
    engine: EngineState<'_>,
    query: LedgerQuery,
) -> CommandResult<ExportResult> {
    let folder = super::save_folder(&app)?;
    engine.ledger_export(&query, &folder).map_err(ipc)
}
