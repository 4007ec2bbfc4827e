// eddy's Node.js runtime client: runs `exports.handler`-style AWS Lambda functions
// unmodified: CommonJS and ES modules, async and callback handlers, the Lambda `context`
// object, and errors reported as {errorType, errorMessage, stackTrace}.
//
// eddy passes this file to `node -e` and talks to it over descriptor 3, a Unix socket, in
// length-prefixed frames (see src/functions/instance.h): a job arrives as a J frame, the
// answer goes back as R (response) or E (error); N says the runtime is ready, I that the
// code did not load. A process started ahead of need (EDDY_PRESTARTED=1) loads no code
// until its first job, which carries the function's environment, task root and handler.
'use strict';
const net = require('net');
const path = require('path');
const fs = require('fs');
const url = require('url');

// The channel to eddy: frames are a u32 length (LE), a type byte and fields (u32 length +
// bytes each).
class Channel {
  constructor(fd, onJob) {
    this.onJob = onJob;
    this.buf = null;
    this.sock = new net.Socket({ fd, readable: true, writable: true });
    this.sock.on('data', (d) => { this.buf = this.buf ? Buffer.concat([this.buf, d]) : d; this.pump(); });
    // eddy is gone (or closed the channel): nothing is left to do.
    this.sock.on('error', () => process.exit(0));
    this.sock.on('close', () => process.exit(0));
  }
  // Sends a frame (fields are strings or Buffers); `done` runs once it is handed to the
  // kernel.
  send(type, fields, done) {
    const lens = fields.map((f) => (typeof f === 'string' ? Buffer.byteLength(f) : f.length));
    let total = 1;
    for (const n of lens) total += 4 + n;
    const out = Buffer.allocUnsafe(4 + total);
    out.writeUInt32LE(total, 0);
    out[4] = type.charCodeAt(0);
    let at = 5;
    fields.forEach((f, i) => {
      out.writeUInt32LE(lens[i], at);
      at += 4;
      if (typeof f === 'string') out.write(f, at, 'utf8'); else f.copy(out, at);
      at += lens[i];
    });
    this.sock.write(out, done);
  }
  pump() {
    while (this.buf && this.buf.length >= 4) {
      const len = this.buf.readUInt32LE(0);
      if (this.buf.length < 4 + len) return;
      const frame = this.buf.subarray(4, 4 + len);
      this.buf = this.buf.length > 4 + len ? this.buf.subarray(4 + len) : null;
      // Every field eddy sends is text.
      const fields = [];
      for (let at = 1; at < frame.length;) {
        const n = frame.readUInt32LE(at);
        fields.push(frame.toString('utf8', at + 4, at + 4 + n));
        at += 4 + n;
      }
      if (frame[0] === 0x4a /* J */) this.onJob(fields);
    }
  }
}

function errorDoc(err, fallbackType) {
  if (err instanceof Error) {
    return {
      errorType: err.name && err.name !== 'Error' ? err.name : (err.constructor && err.constructor.name) || fallbackType || 'Error',
      errorMessage: err.message,
      stackTrace: String(err.stack || '').split('\n'),
    };
  }
  if (err && typeof err === 'object') {
    return { errorType: err.errorType || fallbackType || 'Error', errorMessage: err.errorMessage || JSON.stringify(err), stackTrace: [] };
  }
  return { errorType: fallbackType || 'Error', errorMessage: String(err), stackTrace: [] };
}

class UserCodeError extends Error {
  constructor(type, message, cause) {
    super(message);
    this.name = type;
    if (cause && cause.stack) this.stack = `${type}: ${message}\n${cause.stack}`;
  }
}

async function loadHandler(taskRoot, handlerSpec) {
  const slash = handlerSpec.lastIndexOf('/');
  const dir = slash >= 0 ? handlerSpec.slice(0, slash + 1) : '';
  const rest = slash >= 0 ? handlerSpec.slice(slash + 1) : handlerSpec;
  const dot = rest.indexOf('.');
  if (dot <= 0) throw new UserCodeError('Runtime.MalformedHandlerName', `Bad handler ${handlerSpec}`);
  const moduleBase = path.resolve(taskRoot, dir + rest.slice(0, dot));
  const fnPath = rest.slice(dot + 1).split('.');
  let file = null;
  for (const ext of ['.js', '.mjs', '.cjs']) {
    if (fs.existsSync(moduleBase + ext)) { file = moduleBase + ext; break; }
  }
  if (!file && fs.existsSync(moduleBase) && fs.statSync(moduleBase).isDirectory()) file = moduleBase;
  if (!file) throw new UserCodeError('Runtime.ImportModuleError', `Error: Cannot find module '${dir + rest.slice(0, dot)}'`);
  let esm = file.endsWith('.mjs');
  if (file.endsWith('.js')) {
    // A .js file is an ES module when the nearest package.json says "type": "module".
    for (let d = path.dirname(file); ; d = path.dirname(d)) {
      const pj = path.join(d, 'package.json');
      if (fs.existsSync(pj)) {
        try { esm = JSON.parse(fs.readFileSync(pj, 'utf8')).type === 'module'; } catch (_) {}
        break;
      }
      if (d === taskRoot || d === path.dirname(d)) break;
    }
  }
  let mod;
  try {
    if (esm) {
      mod = await import(url.pathToFileURL(file).href);
    } else {
      try {
        mod = require(file);
      } catch (e) {
        if (e && e.code === 'ERR_REQUIRE_ESM') mod = await import(url.pathToFileURL(file).href);
        else throw e;
      }
    }
  } catch (e) {
    if (e instanceof SyntaxError) throw new UserCodeError('Runtime.UserCodeSyntaxError', `${e.name}: ${e.message}`, e);
    throw new UserCodeError('Runtime.ImportModuleError', `${e && e.name}: ${e && e.message}`, e);
  }
  let fn = mod;
  for (const part of fnPath) fn = fn == null ? undefined : fn[part];
  if (fn === undefined && mod && mod.default) {
    fn = mod.default;
    for (const part of fnPath) fn = fn == null ? undefined : fn[part];
  }
  if (typeof fn !== 'function') {
    throw new UserCodeError('Runtime.HandlerNotFound', `${path.basename(file)}.${fnPath.join('.')} is undefined or not exported`);
  }
  return fn;
}

// What the context takes from the environment, read once the function's environment is
// in place (reading process.env costs a lookup per variable).
let fn = null;
function readEnv() {
  const env = process.env;
  fn = {
    functionName: env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: env.AWS_LAMBDA_FUNCTION_VERSION,
    memoryLimitInMB: env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    logGroupName: env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: env.AWS_LAMBDA_LOG_STREAM_NAME,
  };
}

function makeContext(job) {
  const deadline = job.deadline;
  const ctx = {
    callbackWaitsForEmptyEventLoop: true,
    functionName: fn.functionName,
    functionVersion: fn.functionVersion,
    invokedFunctionArn: job.arn,
    memoryLimitInMB: fn.memoryLimitInMB,
    awsRequestId: job.id,
    logGroupName: fn.logGroupName,
    logStreamName: fn.logStreamName,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
  if (job.clientContext) {
    try { ctx.clientContext = JSON.parse(job.clientContext); } catch (_) {}
  }
  return ctx;
}

// Runs the handler: a returned promise (async handlers) or the callback, whichever settles.
function runHandler(handler, event, ctx) {
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (err, value) => {
      if (settled) return;
      settled = true;
      if (err !== null && err !== undefined) reject(err); else resolve(value);
    };
    ctx.done = settle;
    ctx.succeed = (v) => settle(null, v);
    ctx.fail = (e) => settle(e == null ? new Error('handled') : e);
    try {
      const r = handler(event, ctx, settle);
      if (r && typeof r.then === 'function') r.then((v) => settle(null, v), (e) => settle(e === undefined || e === null ? new Error(String(e)) : e));
      else if (handler.length < 3) settle(null, r);
    } catch (e) {
      settle(e);
    }
  });
}

// _X_AMZN_TRACE_ID changes with every invocation. Assigning it to process.env would call
// setenv(3), and glibc keeps every value it is given for good (about 150 bytes an invocation),
// so a busy instance would grow until its memory limit stopped it. process.env is therefore a
// view of the environment that holds this one variable itself; everything else passes through.
// Child processes get it (child_process copies process.env); native getenv() does not see it.
const TRACE_KEY = '_X_AMZN_TRACE_ID';
let traceId;
function traceIdInProcessEnv() {
  const env = process.env;
  delete env[TRACE_KEY];
  process.env = new Proxy(env, {
    get: (t, k) => (k === TRACE_KEY ? traceId : t[k]),
    set: (t, k, v) => {
      if (k === TRACE_KEY) traceId = String(v); else t[k] = v;
      return true;
    },
    has: (t, k) => (k === TRACE_KEY ? traceId !== undefined : k in t),
    deleteProperty: (t, k) => {
      if (k === TRACE_KEY) traceId = undefined; else delete t[k];
      return true;
    },
    ownKeys: (t) => (traceId === undefined ? Reflect.ownKeys(t) : [...Reflect.ownKeys(t), TRACE_KEY]),
    getOwnPropertyDescriptor: (t, k) => {
      if (k !== TRACE_KEY) return Reflect.getOwnPropertyDescriptor(t, k);
      return traceId === undefined ? undefined : { value: traceId, writable: true, enumerable: true, configurable: true };
    },
  });
}
traceIdInProcessEnv();

let current = null;  // the request id being handled
let handler = null;
const chan = new Channel(3, (f) => { runJob(f).catch((e) => fatal(e, 'Runtime.Error')); });

function initFailed(e) {
  chan.send('I', [JSON.stringify(errorDoc(e, 'Runtime.ImportModuleError'))], () => process.exit(1));
}

// A J frame: request id, deadline, ARN, trace id, client context, init document, payload.
async function runJob(f) {
  const job = { id: f[0], deadline: Number(f[1]) || Date.now() + 3000, arn: f[2], clientContext: f[4] };
  current = job.id;
  let lateInitMs = '';
  if (f[5].length) {
    const t0 = process.hrtime.bigint();
    const init = JSON.parse(f[5]);
    for (const k of Object.keys(process.env)) delete process.env[k];
    Object.assign(process.env, init.env);
    readEnv();
    try {
      process.chdir(init.task_root);
      handler = await loadHandler(init.task_root, init.handler);
    } catch (e) {
      current = null;
      return initFailed(e);
    }
    lateInitMs = (Number(process.hrtime.bigint() - t0) / 1e6).toFixed(3);
  }
  traceId = f[3];
  let type, body, event;
  try {
    event = f[6].length ? JSON.parse(f[6]) : {};
    const result = await runHandler(handler, event, makeContext(job));
    try {
      body = result === undefined ? 'null' : JSON.stringify(result);
    } catch (e) {
      throw new UserCodeError('Runtime.MarshalError', `Unable to stringify response body: ${e.message}`, e);
    }
    type = 'R';
  } catch (e) {
    type = 'E';
    body = JSON.stringify(errorDoc(e, event === undefined ? 'Runtime.UnmarshalError' : undefined));
  }
  current = null;
  chan.send(type, [job.id, lateInitMs, body]);
}

async function main() {
  readEnv();
  if (!process.env.EDDY_PRESTARTED) {
    try {
      handler = await loadHandler(process.env.LAMBDA_TASK_ROOT || process.cwd(), process.env._HANDLER || '');
    } catch (e) {
      return initFailed(e);
    }
  }
  chan.send('N', []);
}

function fatal(e, type) {
  const doc = errorDoc(e, type);
  console.error(`${doc.errorType}: ${doc.errorMessage}`);
  if (current) {
    const id = current;
    current = null;
    chan.send('E', [id, '', JSON.stringify(doc)], () => process.exit(129));
  } else {
    process.exit(129);
  }
}
process.on('uncaughtException', (e) => fatal(e, 'Runtime.UncaughtException'));
process.on('unhandledRejection', (e) => fatal(e, 'Runtime.UnhandledPromiseRejection'));

main().catch((e) => { console.error('eddy runtime:', e); process.exit(1); });
