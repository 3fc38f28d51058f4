// Runs a plan (client_common.mjs) with the v2 TypeScript SDK
// (@modelcontextprotocol/client 2.x).  plan.negotiation picks the era:
// "auto" (default: probe with server/discover, modern when the server is),
// a version such as "2026-07-28" (pinned: modern or fail), or "legacy".
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';

import { errorJson, run } from './client_common.mjs';

function negotiation(plan) {
	const n = plan.negotiation ?? 'auto';
	if (n === 'legacy' || n === 'auto')
		return { mode: n };
	return { mode: { pin: n } };
}

run({
	version: 2,
	Client,
	StdioClientTransport,
	StreamableHTTPClientTransport,
	clientOptions: plan => ({ capabilities: {}, versionNegotiation: negotiation(plan) }),
}).catch(e => {
	process.stdout.write(JSON.stringify({ sdk: 2, connected: false, fatal: errorJson(e) }) + '\n');
	process.exitCode = 1;
});
