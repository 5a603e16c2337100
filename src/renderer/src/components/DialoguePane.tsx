import { useRef } from 'react';
import { useAppState } from '../app/context';
import {
  selectSelectedSessionId,
  selectSelectedTurnIds,
  selectSession,
  selectSessionDialogue,
  selectSessionScenario,
} from '../store/selectors';
import { Composer } from './Composer';
import { TurnBlock } from './TurnBlock';
import { useStickToBottom } from './use-stick-to-bottom';

export function DialoguePane() {
  const sessionId = useAppState(selectSelectedSessionId);
  const turnIds = useAppState(selectSelectedTurnIds);
  const scrollRef = useRef<HTMLDivElement>(null);
  const contentRef = useRef<HTMLDivElement>(null);
  const onScroll = useStickToBottom(scrollRef, contentRef);

  return (
    <section className="panel dialogue" aria-label="Dialogue">
      {sessionId === null ? null : <DialogueHeader sessionId={sessionId} />}
      <div className="dialogue__scroll" ref={scrollRef} onScroll={onScroll}>
        <div className="dialogue__turns" ref={contentRef}>
          {sessionId === null ? (
            <p className="empty">Create or select a session to start talking.</p>
          ) : turnIds.length === 0 ? (
            <p className="empty">No turns yet. Type a line below.</p>
          ) : (
            turnIds.map((turnId) => <TurnBlock key={turnId} sessionId={sessionId} turnId={turnId} />)
          )}
        </div>
      </div>
      <Composer />
    </section>
  );
}

function DialogueHeader({ sessionId }: { sessionId: string }) {
  const session = useAppState(selectSession(sessionId));
  const dialogue = useAppState(selectSessionDialogue(sessionId));
  const scenario = useAppState(selectSessionScenario(sessionId));
  const npcId = session?.npc_id ?? dialogue?.npcId ?? null;
  const npcName = scenario?.npcs.find((n) => n.npc_id === npcId)?.name ?? npcId;
  return (
    <header className="panel__header">
      <h2>{npcName ?? 'Session'}</h2>
      {scenario === undefined ? null : <span className="dialogue__scenario">{scenario.title}</span>}
      <span className="panel__facts">
        <code title={sessionId}>{sessionId}</code>
        {dialogue !== undefined && dialogue.telemetryDropped > 0 ? (
          <span
            className="tag tag--warn"
            title="The server dropped telemetry for this window (stream_overflow)"
          >
            {dialogue.telemetryDropped} telemetry events dropped
          </span>
        ) : null}
        {dialogue?.closedReason != null ? <span className="tag">closed: {dialogue.closedReason}</span> : null}
      </span>
    </header>
  );
}
