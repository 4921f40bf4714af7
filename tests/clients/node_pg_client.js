#!/usr/bin/env node
// node-postgres (npm `pg`) against the server at $FRESHET_URL.
//
// Prints `ok NAME` or `FAIL NAME: ERROR` per check and exits 1 if any check failed. Every
// object it creates starts with `node_pg_`, is dropped first if left over, and again at the
// end. `pg` sends every parameterized query as Parse/Bind/Describe(portal)/Execute/Sync in one
// go (no Describe of the statement first), with every parameter as text of unknown type (OID
// 0), and parses the text results by type OID: int8 and numeric stay strings, timestamps
// become Dates, jsonb objects, arrays arrays. `pg` is found through $FRESHET_NODE_MODULES (a
// node_modules directory) or Node's usual lookup.
'use strict'

const path = require('path')
const pg = require(process.env.FRESHET_NODE_MODULES ? path.join(process.env.FRESHET_NODE_MODULES, 'pg') : 'pg')
const assert = require('assert')

const URL = process.env.FRESHET_URL
const CHECK_TIMEOUT_MS = 30000
const CHECKS = []
const FAILED = []
let IS_POSTGRES = false

function check(name, fn) {
  CHECKS.push([name, fn])
}

function clientConfig(extra) {
  return Object.assign({ connectionString: URL, connectionTimeoutMillis: 10000 }, extra || {})
}

async function withClient(fn) {
  const client = new pg.Client(clientConfig())
  await client.connect()
  try {
    return await fn(client)
  } finally {
    await client.end()
  }
}

function expect(actual, expected, what) {
  try {
    assert.deepStrictEqual(actual, expected)
  } catch (e) {
    throw new Error(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`)
  }
}

function oneLine(error) {
  let text = `${error && error.name ? error.name : 'Error'}: ${error && error.message ? error.message : error}`
  if (error && error.code) text += ` (SQLSTATE ${error.code})`
  return text.split('\n').filter((l) => l.trim()).join(' | ')
}

async function runAll() {
  for (const [name, fn] of CHECKS) {
    let timer
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS / 1000} s`)), CHECK_TIMEOUT_MS)
    })
    try {
      await Promise.race([fn(), timeout])
      console.log(`ok ${name}`)
    } catch (error) {
      FAILED.push(name)
      console.log(`FAIL ${name}: ${oneLine(error)}`)
      if (process.env.CLIENT_TRACEBACK) console.error(error)
      if (/no answer within/.test(String(error && error.message))) {
        // A client may still be waiting: stop here rather than hang.
        return
      }
    } finally {
      clearTimeout(timer)
    }
  }
}

const DROPS = [
  'DROP MATERIALIZED VIEW IF EXISTS node_pg_totals',
  'DROP TABLE IF EXISTS node_pg_orders',
  'DROP TABLE IF EXISTS node_pg_t',
  'DROP TABLE IF EXISTS node_pg_types',
]

const TYPES = [
  // [column, SQL type, value sent, check of the value read back, type OID]
  ['c_int2', 'int2', 32767, (v) => expect(v, 32767, 'value'), 21],
  ['c_int4', 'int4', -2147483648, (v) => expect(v, -2147483648, 'value'), 23],
  ['c_int8', 'int8', '9223372036854775807', (v) => expect(v, '9223372036854775807', 'value (int8 as a string)'), 20],
  ['c_numeric', 'numeric', '12345678901234567890.123456789',
    (v) => expect(v, '12345678901234567890.123456789', 'value (numeric as a string)'), 1700],
  ['c_float8', 'float8', 0.1 + 0.2, (v) => expect(v, 0.30000000000000004, 'value'), 701],
  ['c_text', 'text', "h\u00e9llo 'w\"orld' \\ \t \u2603", (v) => expect(v, "h\u00e9llo 'w\"orld' \\ \t \u2603", 'value'), 25],
  ['c_bool', 'bool', true, (v) => expect(v, true, 'value'), 16],
  ['c_date', 'date', '2024-02-29', (v) => {
    expect(v instanceof Date, true, 'a Date')
    expect([v.getFullYear(), v.getMonth(), v.getDate(), v.getHours()], [2024, 1, 29, 0], 'local date')
  }, 1082],
  ['c_timestamp', 'timestamp', '2024-02-29 13:45:30.123', (v) => {
    expect(v instanceof Date, true, 'a Date')
    expect(v.getTime(), new Date(2024, 1, 29, 13, 45, 30, 123).getTime(), 'local time')
  }, 1114],
  ['c_timestamptz', 'timestamptz', new Date(Date.UTC(2024, 1, 29, 11, 45, 30, 123)), (v) => {
    expect(v instanceof Date, true, 'a Date')
    expect(v.toISOString(), '2024-02-29T11:45:30.123Z', 'instant')
  }, 1184],
  ['c_interval', 'interval', '3 days 04:05:06.007', (v) => {
    expect(Object.assign({}, v), { days: 3, hours: 4, minutes: 5, seconds: 6, milliseconds: 7 }, 'interval fields')
  }, 1186],
  ['c_jsonb', 'jsonb', JSON.stringify({ a: [1, 2.5, 'x'], b: null, c: { d: true } }),
    (v) => expect(v, { a: [1, 2.5, 'x'], b: null, c: { d: true } }, 'value (parsed JSON)'), 3802],
  ['c_uuid', 'uuid', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
    (v) => expect(v, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'value'), 2950],
  ['c_bytea', 'bytea', Buffer.from([0, 1, 2, 127, 128, 255, 92, 39]), (v) => {
    expect(Buffer.isBuffer(v), true, 'a Buffer')
    expect([...v], [0, 1, 2, 127, 128, 255, 92, 39], 'bytes')
  }, 17],
  ['c_int_array', 'int4[]', [1, null, -3], (v) => expect(v, [1, null, -3], 'value'), 1007],
  ['c_text_array', 'text[]', ['a', 'b c', 'q"uote', 'back\\slash', null, '', 'NULL'],
    (v) => expect(v, ['a', 'b c', 'q"uote', 'back\\slash', null, '', 'NULL'], 'value'), 1009],
]

check('setup', async () => {
  await withClient(async (c) => {
    for (const sql of DROPS) {
      try {
        await c.query(sql)
      } catch (e) {
        // left over or not: it is dropped either way
      }
    }
    const columns = TYPES.map(([column, type]) => `${column} ${type}`).join(', ')
    await c.query('CREATE TABLE node_pg_t (id int PRIMARY KEY, name text, qty int)')
    await c.query(`CREATE TABLE node_pg_types (id int PRIMARY KEY, ${columns})`)
    await c.query('CREATE TABLE node_pg_orders (item text, qty int)')
    await c.query('CREATE MATERIALIZED VIEW node_pg_totals AS ' +
      'SELECT item, sum(qty) AS total, count(*) AS n FROM node_pg_orders GROUP BY item')
    const version = (await c.query('SELECT version() AS v')).rows[0].v
    IS_POSTGRES = !version.includes('Freshet')
  })
})

check('simple_query_values_and_fields', async () => {
  await withClient(async (c) => {
    const r = await c.query("SELECT 1 AS one, 'two' AS two, NULL::int AS nothing")
    expect(r.rows, [{ one: 1, two: 'two', nothing: null }], 'rows')
    expect(r.fields.map((f) => [f.name, f.dataTypeID]), [['one', 23], ['two', 25], ['nothing', 23]], 'fields')
  })
})

check('row_counts_and_commands', async () => {
  await withClient(async (c) => {
    let r = await c.query("INSERT INTO node_pg_t (id, name, qty) VALUES (1, 'a', 10), (2, 'b', 20), (3, 'c', 30)")
    expect([r.command, r.rowCount], ['INSERT', 3], 'INSERT command and rowCount')
    r = await c.query('UPDATE node_pg_t SET qty = qty + 1 WHERE id >= 2')
    expect([r.command, r.rowCount], ['UPDATE', 2], 'UPDATE command and rowCount')
    r = await c.query('DELETE FROM node_pg_t WHERE id = 3')
    expect([r.command, r.rowCount], ['DELETE', 1], 'DELETE command and rowCount')
    r = await c.query('SELECT id, name, qty FROM node_pg_t WHERE id <= 3 ORDER BY id')
    expect([r.command, r.rowCount], ['SELECT', 2], 'SELECT command and rowCount')
    expect(r.rows, [{ id: 1, name: 'a', qty: 10 }, { id: 2, name: 'b', qty: 21 }], 'rows')
  })
})

check('parameterized_queries', async () => {
  await withClient(async (c) => {
    let r = await c.query('SELECT $1::int + 1 AS n, $2::text AS s', [41, "it's \"quoted\""])
    expect(r.rows, [{ n: 42, s: "it's \"quoted\"" }], 'casted parameters')
    r = await c.query('SELECT name FROM node_pg_t WHERE id = $1 AND name = $2', [1, 'a'])
    expect(r.rows, [{ name: 'a' }], 'parameters whose type the server infers from the column')
    r = await c.query('INSERT INTO node_pg_t (id, name, qty) VALUES ($1, $2, $3)', [4, null, 40])
    expect(r.rowCount, 1, 'rows inserted with parameters')
    r = await c.query('SELECT id, name, qty FROM node_pg_t WHERE id = $1', ['4'])
    expect(r.rows, [{ id: 4, name: null, qty: 40 }], 'the row inserted with parameters')
  })
})

check('array_parameter_with_any', async () => {
  await withClient(async (c) => {
    // pg sends the array as the text '{1,2,99}' of unknown type; PostgreSQL infers int[].
    const r = await c.query('SELECT count(*)::int AS n FROM node_pg_t WHERE id = ANY($1)', [[1, 2, 99]])
    expect(r.rows, [{ n: 2 }], 'an array parameter with = ANY')
  })
})

check('parameterized_query_without_rows_and_empty_result', async () => {
  await withClient(async (c) => {
    const r = await c.query('SELECT id, name FROM node_pg_t WHERE id = $1', [12345])
    expect(r.rows, [], 'rows')
    expect(r.fields.map((f) => f.name), ['id', 'name'], 'field names of an empty result')
  })
})

check('named_prepared_statement_reused', async () => {
  await withClient(async (c) => {
    for (const [id, name] of [[1, 'a'], [2, 'b'], [1, 'a']]) {
      const r = await c.query({ name: 'node_pg_by_id', text: 'SELECT name FROM node_pg_t WHERE id = $1', values: [id] })
      expect(r.rows, [{ name }], `rows for id ${id}`)
    }
  })
})

check('rows_as_arrays', async () => {
  await withClient(async (c) => {
    const r = await c.query({ text: 'SELECT id, name FROM node_pg_t WHERE id <= $1 ORDER BY id', values: [2], rowMode: 'array' })
    expect(r.rows, [[1, 'a'], [2, 'b']], 'rows')
  })
})

for (const [column, , sent, verify, oid] of TYPES) {
  check(`type_round_trip_${column.slice(2)}`, async () => {
    const id = TYPES.findIndex((t) => t[0] === column) + 1
    await withClient(async (c) => {
      await c.query(`INSERT INTO node_pg_types (id, ${column}) VALUES ($1, $2)`, [id, sent])
      const r = await c.query(`SELECT ${column} AS v FROM node_pg_types WHERE id = $1`, [id])
      expect(r.fields[0].dataTypeID, oid, 'result type OID')
      expect(r.rows.length, 1, 'rows')
      verify(r.rows[0].v)
    })
  })
}

check('types_parsed_from_literals', async () => {
  await withClient(async (c) => {
    const r = await c.query("SELECT 7::int4 AS i, 8::int8 AS b, 1.50::numeric AS n, true AS t, " +
      "'2024-02-29 11:45:30.5+00'::timestamptz AS ts, '{\"k\": [1]}'::jsonb AS j, ARRAY[1, 2] AS a, " +
      "ARRAY['x', 'y z'] AS s")
    const row = r.rows[0]
    expect(row.i, 7, 'int4')
    expect(row.b, '8', 'int8 (a string)')
    expect(row.n, '1.50', 'numeric (a string)')
    expect(row.t, true, 'bool')
    expect(row.ts instanceof Date && row.ts.toISOString(), '2024-02-29T11:45:30.500Z', 'timestamptz')
    expect(row.j, { k: [1] }, 'jsonb')
    expect(row.a, [1, 2], 'int4[]')
    expect(row.s, ['x', 'y z'], 'text[]')
  })
})

check('pool_with_concurrent_clients', async () => {
  const pool = new pg.Pool(clientConfig({ max: 4 }))
  try {
    const ids = Array.from({ length: 12 }, (_, i) => 100 + i)
    await Promise.all(ids.map((id) => pool.query('INSERT INTO node_pg_t (id, name, qty) VALUES ($1, $2, $3)', [id, `p${id}`, id])))
    const reads = await Promise.all(ids.map((id) => pool.query('SELECT name FROM node_pg_t WHERE id = $1', [id])))
    expect(reads.map((r) => r.rows[0] && r.rows[0].name), ids.map((id) => `p${id}`), 'each row read back')
    // Four clients, each in its own transaction at the same time.
    const clients = await Promise.all([1, 2, 3, 4].map(() => pool.connect()))
    try {
      expect(pool.totalCount, 4, 'clients the pool opened')
      await Promise.all(clients.map((c) => c.query('BEGIN')))
      await Promise.all(clients.map((c, i) => c.query('INSERT INTO node_pg_t (id, name, qty) VALUES ($1, $2, 0)', [200 + i, `tx${i}`])))
      await Promise.all(clients.map((c) => c.query('COMMIT')))
    } finally {
      clients.forEach((c) => c.release())
    }
    const r = await pool.query('SELECT count(*)::int AS n FROM node_pg_t WHERE id >= 100 AND id < 300')
    expect(r.rows, [{ n: 16 }], 'rows written through the pool')
  } finally {
    await pool.end()
  }
})

check('transaction_rollback_discards_insert', async () => {
  await withClient(async (c) => {
    await c.query('BEGIN')
    await c.query('INSERT INTO node_pg_t (id, name, qty) VALUES ($1, $2, $3)', [300, 'undone', 1])
    await c.query('ROLLBACK')
    let r = await c.query('SELECT count(*)::int AS n FROM node_pg_t WHERE id = $1', [300])
    expect(r.rows, [{ n: 0 }], 'rows after ROLLBACK')
    await c.query('BEGIN')
    await c.query('INSERT INTO node_pg_t (id, name, qty) VALUES ($1, $2, $3)', [301, 'kept', 1])
    await c.query('COMMIT')
    r = await c.query('SELECT name FROM node_pg_t WHERE id = $1', [301])
    expect(r.rows, [{ name: 'kept' }], 'rows after COMMIT')
  })
})

check('error_has_sqlstate_and_client_recovers', async () => {
  await withClient(async (c) => {
    let error = null
    try {
      await c.query('SELECT * FROM node_pg_no_such_table WHERE id = $1', [1])
    } catch (e) {
      error = e
    }
    expect(error && error.code, '42P01', 'SQLSTATE of selecting from a missing table')
    const r = await c.query('SELECT $1::int AS n', [5])
    expect(r.rows, [{ n: 5 }], 'a query after the error')
  })
})

check('materialized_view_reflects_inserts', async () => {
  await withClient(async (c) => {
    const totals = async () => {
      if (IS_POSTGRES) await c.query('REFRESH MATERIALIZED VIEW node_pg_totals') // PostgreSQL's are refreshed by hand
      return (await c.query('SELECT item, total::int AS total, n::int AS n FROM node_pg_totals ORDER BY item')).rows
    }
    await c.query('INSERT INTO node_pg_orders VALUES ($1, $2), ($3, $4), ($5, $6)', ['pen', 2, 'pen', 3, 'ink', 1])
    expect(await totals(), [{ item: 'ink', total: 1, n: 1 }, { item: 'pen', total: 5, n: 2 }], 'view after the first INSERT')
    await c.query('INSERT INTO node_pg_orders VALUES ($1, $2)', ['ink', 10])
    expect(await totals(), [{ item: 'ink', total: 11, n: 2 }, { item: 'pen', total: 5, n: 2 }], 'view after the second INSERT')
  })
})

check('cleanup', async () => {
  await withClient(async (c) => {
    for (const sql of DROPS) await c.query(sql)
  })
})

runAll().then(() => {
  console.log(`${CHECKS.length} checks: ${CHECKS.length - FAILED.length} ok, ${FAILED.length} FAIL`)
  process.exit(FAILED.length ? 1 : 0)
})
