// What Tally knows of updates: a check's outcome, an install's progress, and a newer
// version the quiet daily check announced (for the banner until opened or dismissed).
import { asIpcError, ipc, notices } from "../../lib/ipc";
import type { AvailableUpdate } from "../../lib/ipc";

export type UpdateStep =
  | { step: "idle" }
  | { step: "checking" }
  | { step: "current"; version: string }
  | { step: "offered"; offer: AvailableUpdate }
  | { step: "installing"; offer: AvailableUpdate; percent: number | null }
  | { step: "restarting"; offer: AvailableUpdate };

export class UpdateState {
  step = $state<UpdateStep>({ step: "idle" });
  /** Why the last check or install failed, in plain words. */
  problem = $state("");
  /** A newer version the daily check found, until the person opens or dismisses it. */
  announced = $state<AvailableUpdate | null>(null);

  /** Follows the daily check's `update_available`; returns the unsubscribe function. */
  follow(): Promise<() => void> {
    return notices.onUpdateAvailable((offer) => {
      // An install under way, or one done and restarting, is not interrupted.
      if (this.step.step === "installing" || this.step.step === "restarting") return;
      this.step = { step: "offered", offer };
      this.announced = offer;
    });
  }

  /** The banner was opened or dismissed: it does not come back until the next find. */
  acknowledge() {
    this.announced = null;
  }

  async check() {
    this.problem = "";
    this.step = { step: "checking" };
    try {
      const found = await ipc.updateCheck();
      this.step = found.available
        ? { step: "offered", offer: found.available }
        : { step: "current", version: found.current };
    } catch (e) {
      this.step = { step: "idle" };
      this.problem = asIpcError(e).message;
    }
  }

  async install(offer: AvailableUpdate) {
    this.problem = "";
    this.announced = null;
    this.step = { step: "installing", offer, percent: null };
    try {
      await ipc.updateInstall(({ downloaded, total }) => {
        this.step = {
          step: "installing",
          offer,
          percent: total ? Math.min(100, Math.round((downloaded / total) * 100)) : null,
        };
      });
      this.step = { step: "restarting", offer };
    } catch (e) {
      this.step = { step: "offered", offer };
      this.problem = asIpcError(e).message;
    }
  }
}
