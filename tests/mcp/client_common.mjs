// The driver shared by client_v1.mjs and client_v2.mjs: runs a JSON "plan"
// with one of the official MCP SDK clients and prints one JSON line of what
// happened.  The assertions live in the Python tests (tests/api/test_mcp_clients.py).
//
// A plan (argv[2], or stdin when there is no argument):
//   {"transport": {"type": "stdio", "command": "...", "args": [...], "env": {...}, "cwd": "..."}
//              or {"type": "http", "url": "http://.../mcp", "token": "...", "headers": {...}},
//    "negotiation": "legacy" | "auto" | "2026-07-28"   (v2 only; default "auto"),
//    "ops": [{"op": "listTools"}, {"op": "callTool", "name": "...", "arguments": {...},
//            "progress": true, "abortAfterMs": N}, {"op": "listResources"},
//            {"op": "readResource", "uri": "..."},
//            {"op": "listResourceTemplates"}, {"op": "listPrompts"},
//            {"op": "getPrompt", "name": "...", "arguments": {...}},
//            {"op": "complete", "ref": {...}, "argument": {...}}, {"op": "ping"},
//            {"op": "terminateSession"}]}
// Output: {"connected": bool, "error"?: {...}, "era", "protocolVersion", "serverInfo",
//          "sessionId", "sent": {method: count}, "results": [{"op", "result"? , "error"?,
//          "progress"?, "pages"?}]}
// Every op runs even when an earlier one failed; errors are recorded with
// their name, code, message and data.

export function errorJson(e) {
	if (!e || typeof e !== 'object')
		return { name: 'Error', message: String(e) };
	const out = { name: e.constructor?.name || e.name || 'Error', message: String(e.message ?? e) };
	if (e.code !== undefined)
		out.code = e.code;
	if (e.data !== undefined)
		out.data = e.data;
	return out;
}

async function readPlan() {
	if (process.argv[2])
		return JSON.parse(process.argv[2]);
	const chunks = [];
	for await (const c of process.stdin)
		chunks.push(c);
	return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

// sdk: {version: 1 | 2, Client, StdioClientTransport, StreamableHTTPClientTransport,
//       clientOptions(plan)}
export async function run(sdk) {
	const plan = await readPlan();
	const t = plan.transport;
	let transport;
	if (t.type === 'stdio') {
		transport = new sdk.StdioClientTransport({
			command: t.command, args: t.args || [], env: t.env, cwd: t.cwd, stderr: 'inherit',
		});
	} else {
		const headers = { ...(t.headers || {}) };
		if (t.token)
			headers.Authorization = `Bearer ${t.token}`;
		transport = new sdk.StreamableHTTPClientTransport(new URL(t.url), { requestInit: { headers } });
	}
	// Count what the client sends, by method: paging and probing are visible.
	const sent = {};
	const send = transport.send.bind(transport);
	transport.send = (msg, opts) => {
		if (msg && msg.method)
			sent[msg.method] = (sent[msg.method] || 0) + 1;
		return send(msg, opts);
	};
	const client = new sdk.Client({ name: `sheaf-test-v${sdk.version}`, version: '1.0.0' },
				      sdk.clientOptions(plan));
	const out = { sdk: sdk.version, connected: false, results: [], sent };
	try {
		await client.connect(transport);
		out.connected = true;
	} catch (e) {
		out.error = errorJson(e);
	}
	if (out.connected) {
		out.era = client.getProtocolEra ? client.getProtocolEra() ?? null : 'legacy';
		out.protocolVersion = (client.getNegotiatedProtocolVersion && client.getNegotiatedProtocolVersion())
			|| transport.protocolVersion || null;
		out.serverInfo = client.getServerVersion() ?? null;
		out.capabilities = client.getServerCapabilities() ?? null;
		out.sessionId = transport.sessionId ?? null;
		let listed = false;
		for (const op of plan.ops || []) {
			const r = { op: op.op };
			try {
				if (op.op === 'callTool' && !listed && !op.noList) {
					// The SDKs validate structuredContent against the outputSchema
					// of a tool they have listed: list first.
					await client.listTools();
					listed = true;
				}
				r.result = await runOp(sdk, client, transport, op, r);
				if (op.op === 'listTools')
					listed = true;
			} catch (e) {
				r.error = errorJson(e);
			}
			out.results.push(r);
		}
	}
	try {
		await client.close();
	} catch (e) {
		out.closeError = errorJson(e);
	}
	process.stdout.write(JSON.stringify(out) + '\n');
}

async function runOp(sdk, client, transport, op, r) {
	switch (op.op) {
	case 'listTools':
		return await client.listTools();
	case 'callTool': {
		const params = { name: op.name, arguments: op.arguments ?? {} };
		const options = { timeout: op.timeout ?? 120000 };
		if (op.progress) {
			r.progress = [];
			options.onprogress = p => r.progress.push(p);
		}
		if (op.abortAfterMs !== undefined) {   // the user gives up: the SDK's own cancel
			const ac = new AbortController();
			setTimeout(() => ac.abort(new Error('the test gave up')), op.abortAfterMs);
			options.signal = ac.signal;
		}
		return sdk.version === 1 ? await client.callTool(params, undefined, options)
					 : await client.callTool(params, options);
	}
	case 'listResources': {
		if (sdk.version === 2 && !op.manual)
			return await client.listResources();   // v2 walks the pages itself
		const all = { resources: [] };
		r.pages = 0;
		let cursor;
		do {
			const page = await client.listResources(cursor === undefined ? {} : { cursor });
			r.pages++;
			all.resources.push(...page.resources);
			cursor = page.nextCursor;
		} while (cursor !== undefined && r.pages < 100);
		return all;
	}
	case 'readResource':
		return await client.readResource({ uri: op.uri });
	case 'listResourceTemplates':
		return await client.listResourceTemplates();
	case 'listPrompts':
		return await client.listPrompts();
	case 'getPrompt':
		return await client.getPrompt({ name: op.name, arguments: op.arguments ?? {} });
	case 'complete':
		return await client.complete({ ref: op.ref, argument: op.argument });
	case 'ping':
		return await client.ping();
	case 'terminateSession':
		await transport.terminateSession();
		return { sessionId: transport.sessionId ?? null };
	default:
		throw new Error(`unknown op ${op.op}`);
	}
}
