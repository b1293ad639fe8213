// zombienet js-script: waits until the node's finalised head has advanced `args[0]` blocks
// past where it was when called, and returns how many it advanced.
async function run(nodeName, networkInfo, args) {
	const { wsUri, userDefinedTypes } = networkInfo.nodesByName[nodeName];
	const api = await zombie.connect(wsUri, userDefinedTypes);
	const wanted = Number(args[0]);
	const finalised = async () =>
		(await api.rpc.chain.getHeader(await api.rpc.chain.getFinalizedHead())).number.toNumber();
	const start = await finalised();
	let now = start;
	while (now < start + wanted) {
		await new Promise((resolve) => setTimeout(resolve, 1000));
		now = await finalised();
	}
	console.log(`${nodeName}: finalised #${start} -> #${now}`);
	await api.disconnect();
	return now - start;
}

module.exports = { run };
