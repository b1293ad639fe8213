// zombienet js-script: run on a restarted node with the name of a node that kept running
// (`args[0]`). Reads that node's best and finalised heights once, then waits until the
// restarted node has imported that best block and finalised that finalised block; returns
// by how many blocks its finalised head is then past the reference (never negative).
const net = require("net");

// Resolves once something accepts TCP connections at the WebSocket URI's host and port: a
// restarted node opens its RPC server some seconds after zombienet sees it running, and
// connecting earlier fails.
async function rpcListening(wsUri) {
	const { hostname, port } = new URL(wsUri);
	for (;;) {
		const open = await new Promise((resolve) => {
			const socket = net.connect(Number(port), hostname, () => {
				socket.end();
				resolve(true);
			});
			socket.on("error", () => resolve(false));
		});
		if (open) return;
		await new Promise((resolve) => setTimeout(resolve, 1000));
	}
}

async function run(nodeName, networkInfo, args) {
	await rpcListening(networkInfo.nodesByName[nodeName].wsUri);
	const connect = (name) =>
		zombie.connect(networkInfo.nodesByName[name].wsUri, networkInfo.nodesByName[name].userDefinedTypes);
	const reference = await connect(args[0]);
	const restarted = await connect(nodeName);
	const heights = async (api) => {
		const best = (await api.rpc.chain.getHeader()).number.toNumber();
		const finalised = (await api.rpc.chain.getHeader(await api.rpc.chain.getFinalizedHead()))
			.number.toNumber();
		return { best, finalised };
	};
	// A node that has just restarted may refuse calls while it opens its database and syncs:
	// such an error is logged and the call retried.
	const heightsOrNone = async (api) => {
		try {
			return await heights(api);
		} catch (e) {
			console.log(`${nodeName}: not answering yet: ${e && e.message ? e.message : JSON.stringify(e)}`);
			return { best: -1, finalised: -1 };
		}
	};
	const target = await heights(reference);
	let now = await heightsOrNone(restarted);
	while (now.best < target.best || now.finalised < target.finalised) {
		await new Promise((resolve) => setTimeout(resolve, 1000));
		now = await heightsOrNone(restarted);
	}
	console.log(
		`${nodeName}: best #${now.best}, finalised #${now.finalised}; ${args[0]} was at best #${target.best}, finalised #${target.finalised}`,
	);
	await reference.disconnect();
	await restarted.disconnect();
	return now.finalised - target.finalised;
}

module.exports = { run };
