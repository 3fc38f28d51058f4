// Runs a plan (client_common.mjs) with the v1 TypeScript SDK
// (@modelcontextprotocol/sdk 1.x: the 2025-11-25 initialize handshake).
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

import { errorJson, run } from './client_common.mjs';

run({
	version: 1,
	Client,
	StdioClientTransport,
	StreamableHTTPClientTransport,
	clientOptions: () => ({ capabilities: {} }),
}).catch(e => {
	process.stdout.write(JSON.stringify({ sdk: 1, connected: false, fatal: errorJson(e) }) + '\n');
	process.exitCode = 1;
});
