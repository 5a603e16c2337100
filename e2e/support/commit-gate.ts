import type { Page } from '@playwright/test';

/**
 * Sits in the inspector's WebSocket (Playwright's WebSocket routing) and, while closed, holds the
 * first `commit_succeeded` or `commit_failed` frame and every frame after it, in order, until
 * released. The runtime publishes a turn's commit a few milliseconds after its `turn_final`, usually
 * inside the same animation frame; holding it is how a test gets to see the pending state.
 */
export class CommitGate {
  private closed = false;
  private held: (string | Buffer)[] = [];
  private deliver: ((message: string | Buffer) => void) | null = null;

  static async install(page: Page): Promise<CommitGate> {
    const gate = new CommitGate();
    await page.routeWebSocket(/\/v1\/stream$/, (ws) => {
      const server = ws.connectToServer();
      ws.onMessage((message) => {
        server.send(message);
      });
      gate.deliver = (message) => {
        ws.send(message);
      };
      server.onMessage((message) => {
        gate.receive(message);
      });
    });
    return gate;
  }

  /** Hold the next commit event (and everything after it) until `release`. */
  close(): void {
    this.closed = true;
  }

  /** Hands over what was held, in order, and lets frames through again. */
  release(): void {
    this.closed = false;
    const held = this.held;
    this.held = [];
    for (const message of held) this.deliver?.(message);
  }

  /** Whether a commit event is being held. */
  get holding(): boolean {
    return this.held.length > 0;
  }

  private receive(message: string | Buffer): void {
    if (this.held.length === 0 && !(this.closed && isCommitEvent(message))) {
      this.deliver?.(message);
      return;
    }
    this.held.push(message);
  }
}

function isCommitEvent(message: string | Buffer): boolean {
  try {
    const frame = JSON.parse(message.toString()) as { type?: unknown };
    return frame.type === 'commit_succeeded' || frame.type === 'commit_failed';
  } catch {
    return false;
  }
}
