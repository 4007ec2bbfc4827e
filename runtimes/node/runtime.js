// eddy's Node.js runtime client: speaks the AWS Lambda Runtime API
// (AWS_LAMBDA_RUNTIME_API) and runs `exports.handler`-style functions unmodified:
// CommonJS and ES modules, async and callback handlers, the Lambda `context` object, and
// errors reported as {errorType, errorMessage, stackTrace}.
//
// eddy passes this file to `node -e`. A process started ahead of need (EDDY_PRESTARTED=1)
// loads no code until its first invocation, which carries the function's environment, task
// root and handler in the `eddy-function-init` header.
'use strict';
const net = require('net');
const path = require('path');
const fs = require('fs');
const url = require('url');

const [apiHost, apiPort] = (process.env.AWS_LAMBDA_RUNTIME_API || '127.0.0.1:9001').split(':');
const BASE = '/2018-06-01/runtime';

// A minimal HTTP/1.1 client for the Runtime API over one keep-alive connection. eddy's
// Runtime API always answers with Content-Length, so that is all it parses; requests may be
// pipelined (answers come back in order).
class RuntimeConnection {
  constructor() {
    this.waiting = [];
    this.buf = null;
    this.sock = net.connect({ host: apiHost, port: Number(apiPort) });
    this.sock.setNoDelay(true);
    this.sock.on('data', (d) => { this.buf = this.buf ? Buffer.concat([this.buf, d]) : d; this.pump(); });
    const fail = (e) => { for (const w of this.waiting.splice(0)) w.reject(e || new Error('runtime API closed')); };
    this.sock.on('error', fail);
    this.sock.on('close', () => fail());
  }
  request(method, route, body, headers) {
    let head = `${method} ${BASE}${route} HTTP/1.1\r\nHost: ${apiHost}\r\n`;
    const payload = body === undefined ? null : Buffer.from(body);
    if (headers) for (const k of Object.keys(headers)) head += `${k}: ${headers[k]}\r\n`;
    head += `Content-Length: ${payload ? payload.length : 0}\r\n\r\n`;
    this.sock.write(payload ? Buffer.concat([Buffer.from(head), payload]) : head);
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }
  pump() {
    while (this.buf && this.waiting.length) {
      const end = this.buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const lines = this.buf.toString('latin1', 0, end).split('\r\n');
      const status = Number(lines[0].split(' ')[1]);
      const headers = {};
      for (let i = 1; i < lines.length; i++) {
        const c = lines[i].indexOf(':');
        if (c > 0) headers[lines[i].slice(0, c).trim().toLowerCase()] = lines[i].slice(c + 1).trim();
      }
      const len = Number(headers['content-length'] || 0);
      if (this.buf.length < end + 4 + len) return;
      const body = this.buf.subarray(end + 4, end + 4 + len);
      this.buf = this.buf.length > end + 4 + len ? this.buf.subarray(end + 4 + len) : null;
      this.waiting.shift().resolve({ status, headers, body });
    }
  }
}

const conn = new RuntimeConnection();
function call(method, route, body, headers) {
  return conn.request(method, route, body, headers);
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

function makeContext(headers, deadline) {
  const env = process.env;
  const ctx = {
    callbackWaitsForEmptyEventLoop: true,
    functionName: env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: env.AWS_LAMBDA_FUNCTION_VERSION,
    invokedFunctionArn: headers['lambda-runtime-invoked-function-arn'],
    memoryLimitInMB: env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    awsRequestId: headers['lambda-runtime-aws-request-id'],
    logGroupName: env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: env.AWS_LAMBDA_LOG_STREAM_NAME,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
  if (headers['lambda-runtime-client-context']) {
    try { ctx.clientContext = JSON.parse(headers['lambda-runtime-client-context']); } catch (_) {}
  }
  if (headers['lambda-runtime-cognito-identity']) {
    try { ctx.identity = JSON.parse(headers['lambda-runtime-cognito-identity']); } catch (_) {}
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

let current = null;  // the request id being handled

async function main() {
  let handler = null;
  let lateInitMs = 0;
  if (!process.env.EDDY_PRESTARTED) {
    try {
      handler = await loadHandler(process.env.LAMBDA_TASK_ROOT || process.cwd(), process.env._HANDLER || '');
    } catch (e) {
      await call('POST', '/init/error', JSON.stringify(errorDoc(e, 'Runtime.ImportModuleError')),
        { 'Content-Type': 'application/json', 'Lambda-Runtime-Function-Error-Type': 'Runtime.ImportModuleError' });
      process.exit(1);
    }
  }
  let pendingNext = call('GET', '/invocation/next');
  for (;;) {
    const next = await pendingNext;
    if (next.status !== 200) process.exit(0);
    const h = next.headers;
    const id = h['lambda-runtime-aws-request-id'];
    current = id;
    let initHeader = null;
    if (h['eddy-function-init']) {
      const t0 = process.hrtime.bigint();
      const init = JSON.parse(h['eddy-function-init']);
      for (const k of Object.keys(process.env)) delete process.env[k];
      Object.assign(process.env, init.env);
      try {
        process.chdir(init.task_root);
        handler = await loadHandler(init.task_root, init.handler);
      } catch (e) {
        await call('POST', '/init/error', JSON.stringify(errorDoc(e, 'Runtime.ImportModuleError')),
          { 'Content-Type': 'application/json', 'Lambda-Runtime-Function-Error-Type': 'Runtime.ImportModuleError' });
        process.exit(1);
      }
      lateInitMs = Number(process.hrtime.bigint() - t0) / 1e6;
      initHeader = lateInitMs.toFixed(3);
    }
    const deadline = Number(h['lambda-runtime-deadline-ms']) || Date.now() + 3000;
    const headers = { 'Content-Type': 'application/json' };
    if (initHeader) headers['Eddy-Init-Duration-Ms'] = initHeader;
    let route, body;
    let event;
    try {
      event = next.body.length ? JSON.parse(next.body.toString('utf8')) : {};
      const result = await runHandler(handler, event, makeContext(h, deadline));
      try {
        body = result === undefined ? 'null' : JSON.stringify(result);
      } catch (e) {
        throw new UserCodeError('Runtime.MarshalError', `Unable to stringify response body: ${e.message}`, e);
      }
      route = `/invocation/${id}/response`;
    } catch (e) {
      const doc = errorDoc(e, event === undefined ? 'Runtime.UnmarshalError' : undefined);
      headers['Lambda-Runtime-Function-Error-Type'] = doc.errorType;
      route = `/invocation/${id}/error`;
      body = JSON.stringify(doc);
    }
    current = null;
    // The result and the request for the next job go out together (pipelined).
    const posted = call('POST', route, body, headers);
    pendingNext = call('GET', '/invocation/next');
    await posted;
  }
}

function fatal(e, type) {
  const doc = errorDoc(e, type);
  console.error(`${doc.errorType}: ${doc.errorMessage}`);
  if (current) {
    const id = current;
    current = null;
    call('POST', `/invocation/${id}/error`, JSON.stringify(doc),
      { 'Content-Type': 'application/json', 'Lambda-Runtime-Function-Error-Type': doc.errorType })
      .finally(() => process.exit(129));
  } else {
    process.exit(129);
  }
}
process.on('uncaughtException', (e) => fatal(e, 'Runtime.UncaughtException'));
process.on('unhandledRejection', (e) => fatal(e, 'Runtime.UnhandledPromiseRejection'));

main().catch((e) => { console.error('eddy runtime:', e); process.exit(1); });
