// make bench's peer rows (bench/peer_rows.py runs this): bench/data/loop.bpmn's loop on bpmn-engine,
// its state persisted to PostgreSQL the way Tovholder persists its own: per completion one transaction
// that locks the case's row, recovers the engine from the stored state, signals the user task, waits
// for the next wait state, stores the new state and commits.
//
// Usage: node bench/peer/loop.mjs POSTGRES_URL SIZES MEASURE   (e.g. 10,100,1000 20)
// Prints one JSON line per size: {"size", "timings_ms": [...], "state_bytes"}.
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { Engine } from 'bpmn-engine';
import pg from 'pg';

const [url, sizesArg = '10,100,1000', measureArg = '20'] = process.argv.slice(2);
const sizes = sizesArg.split(',').map(Number);
const measure = Number(measureArg);
const source = readFileSync(new URL('./loop.bpmn', import.meta.url), 'utf8');
const SCHEMA = 'tovholder_bench_peer';

// The user task's form answer ({again}) becomes a process variable that the gateway's condition reads,
// as a Tovholder task's data does.
const listener = new EventEmitter();
listener.on('activity.end', (api) => {
  if (api.id === 'step') api.environment.variables.again = api.content.output?.again;
});

async function complete(client, id, again) {
  await client.query('BEGIN');
  const { rows } = await client.query(`SELECT state FROM ${SCHEMA}.cases WHERE id = $1 FOR UPDATE`, [id]);
  const engine = new Engine({ name: 'bench_loop', source }).recover(rows[0].state);
  const execution = await engine.resume({ listener });
  const [task] = execution.getPostponed();
  task.signal({ again });
  const state = JSON.stringify(await engine.getState());
  await client.query(`UPDATE ${SCHEMA}.cases SET state = $2 WHERE id = $1`, [id, state]);
  await client.query('COMMIT');
  return state.length;
}

const client = new pg.Client({ connectionString: url });
await client.connect();
await client.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
await client.query(`CREATE SCHEMA ${SCHEMA}`);
await client.query(`CREATE TABLE ${SCHEMA}.cases (id text PRIMARY KEY, state jsonb NOT NULL)`);
try {
  for (const size of sizes) {
    const id = `case-${size}`;
    const engine = new Engine({ name: 'bench_loop', source });
    await engine.execute({ listener });
    await client.query(`INSERT INTO ${SCHEMA}.cases (id, state) VALUES ($1, $2)`,
      [id, JSON.stringify(await engine.getState())]);
    for (let done = 0; done < size; done += 1) await complete(client, id, true);
    const timings = [];
    let bytes = 0;
    for (let i = 0; i < measure; i += 1) {
      const started = process.hrtime.bigint();
      bytes = await complete(client, id, true);
      timings.push(Number(process.hrtime.bigint() - started) / 1e6);
    }
    console.log(JSON.stringify({ size, timings_ms: timings, state_bytes: bytes }));
  }
} finally {
  await client.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
  await client.end();
}
