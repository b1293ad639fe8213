"""substrate-interface (PyPI) and a real PoVM job, with no custom type definitions.

Alice submits a coin-flip job with `JobQueue.submit_job`; the two providers of the `network`
fixture (//Bob, //Charlie) run it in Docker, commit and reveal; the test reads the job back
from storage (`JobQueue.Jobs`, `JobQueue.Results`, decoded with the metadata's types) and
through the runtime API `PovmJobsApi_job` (decoded with the types of metadata v15, which
substrate-interface 1.8.1 cannot fetch itself: see `job_view`).
"""
import time

import pytest
from scalecodec.base import ScaleBytes
from substrateinterface import Keypair, SubstrateInterface

import coinflip

SEED = 4242
FLIPS = 1_000_000
CHECKPOINT_EVERY = 250_000
MAX_SECONDS = 30  # + the pallet's 30 s start margin fits the 20-block (120 s) commit window
PRICE_PER_SECOND = 10**9  # 0.001 POVM per VM-second
BUDGET = 10**12  # 1 POVM: covers max_replicas × max_seconds × price = 0.06 POVM
WITHIN = 300  # seconds for the job to complete


def test_splitmix64_matches_the_jobs_reference_values():
    # The values of `splitmix64_matches_reference_values` in jobs/coinflip/src/main.rs.
    rng = coinflip.splitmix64(1234567)
    assert next(rng) == 6457827717110365317
    assert next(rng) == 3203168211198807973


def as_bytes(value) -> bytes:
    """A decoded byte string: scalecodec gives `0x…` hex, or text when it is valid UTF-8."""
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    if isinstance(value, list):
        return bytes(value)
    if isinstance(value, str) and value.startswith("0x"):
        return bytes.fromhex(value[2:])
    return value.encode()


def job_view(substrate: SubstrateInterface, job_id: int, block_hash: str | None = None):
    """`PovmJobsApi::job(job_id)`, decoded with the types of the node's metadata v15.

    substrate-interface 1.8.1 reads metadata v14 only, and its `runtime_call` knows only the
    runtime APIs of its bundled type registry (not `PovmJobsApi`); `JobView` is not among
    the v14 metadata's types. So: fetch v15 with `Metadata_metadata_at_version(15)`, decode
    its type registry (the first field after `meta` and the version byte), register those
    types under the prefix `v15`, and decode the `state_call` result as the registry's
    `Option<JobView>` (found by its path, `pallet_job_queue::runtime_api::JobView`).
    """
    rc = substrate.runtime_config
    if not hasattr(substrate, "_povm_job_view_type"):
        raw = substrate.rpc_request("state_call", ["Metadata_metadata_at_version", "0x0f000000"])["result"]
        opaque = rc.create_scale_object("Option<Vec<u8>>")
        opaque.decode(ScaleBytes(raw))
        assert opaque.value is not None, "the node serves no metadata v15"
        data = as_bytes(opaque.value)
        assert data[:5] == b"meta\x0f", f"not metadata v15: {data[:5]!r}"
        registry = rc.create_scale_object("PortableRegistry")
        registry.decode(ScaleBytes(data[5:]), check_remaining=False)
        rc.update_from_scale_info_types(registry["types"], prefix="v15")
        types = registry.value["types"]
        view = [t["id"] for t in types
                if t["type"].get("path") == ["pallet_job_queue", "runtime_api", "JobViewOf"]]
        assert len(view) == 1, f"JobView in the v15 registry: {view}"
        option = [t["id"] for t in types if t["type"].get("path") == ["Option"]
                  and t["type"]["params"][0]["type"] == view[0]]
        assert len(option) == 1, f"Option<JobView> in the v15 registry: {option}"
        substrate._povm_job_view_type = f"v15::{option[0]}"
    param = rc.create_scale_object("u64").encode(job_id)
    result = substrate.rpc_request("state_call", ["PovmJobsApi_job", str(param), block_hash])["result"]
    obj = rc.create_scale_object(substrate._povm_job_view_type)
    obj.decode(ScaleBytes(result))  # checks that every byte was consumed
    return obj.value


def coinflip_args(seed: int) -> list[str]:
    return ["--seed", str(seed), "--flips", str(FLIPS), "--checkpoint-every", str(CHECKPOINT_EVERY)]


def coinflip_spec(image: str, seed: int) -> dict:
    return {
        # The image by ID (32 bytes as 0x-hex); no registry: the providers hold it already.
        "image": {"id": "0x" + image.removeprefix("sha256:"), "registry": None, "arch": "X86_64"},
        "command": "/coinflip",
        # `args` and `env` are `BoundedVec<T, _>`s of non-byte `T`: scalecodec 1.2.12 encodes
        # such a one-field tuple struct as a 1-tuple, so the list goes in a list (it decodes
        # them as a plain list). `BoundedVec<u8, _>` (command) takes a plain string.
        "args": [coinflip_args(seed)],
        "env": [[]],
        "inputs": [[]],
        "resources": {"millicores": 500, "memory_mib": 64, "max_seconds": MAX_SECONDS},
        "price_per_second": PRICE_PER_SECOND,
        # Two replicas, both must agree (2 votes to 0).
        "redundancy": {"min_replicas": 2, "max_replicas": 2, "margin": 2},
        "checkpoint_interval": 0,
    }


def wait_finished(substrate, network, job_id: int) -> dict:
    deadline = time.time() + WITHIN
    state = None
    while time.time() < deadline:
        job = substrate.query("JobQueue", "Jobs", [job_id]).value
        assert job is not None, f"job {job_id} vanished from JobQueue.Jobs"
        state = job["state"]
        if state not in ("Queued", "Assigned", "Revealing"):
            return job
        for p in network.providers:
            p.check_running()
        time.sleep(2)
    pytest.fail(f"job {job_id} still {state} after {WITHIN} s")


def test_job_submitted_with_substrate_interface_completes_and_decodes(network):
    substrate = SubstrateInterface(url=network.ws)
    alice = Keypair.create_from_uri("//Alice")
    providers = {Keypair.create_from_uri(k).ss58_address for k in ("//Bob", "//Charlie")}
    expected_output = coinflip.tally(SEED, FLIPS)
    spec = coinflip_spec(network.image, SEED)

    call = substrate.compose_call("JobQueue", "submit_job", {"spec": spec, "budget": BUDGET})
    extrinsic = substrate.create_signed_extrinsic(call=call, keypair=alice, era={"period": 64})
    receipt = substrate.submit_extrinsic(extrinsic, wait_for_inclusion=True)
    assert receipt.is_success, f"submit_job failed: {receipt.error_message}"
    submitted = [e.value["attributes"] for e in receipt.triggered_events
                 if (e.value["module_id"], e.value["event_id"]) == ("JobQueue", "JobSubmitted")]
    assert len(submitted) == 1, f"one JobSubmitted event: {receipt.triggered_events}"
    job_id = submitted[0]["job"]
    assert submitted[0]["owner"] == alice.ss58_address
    assert submitted[0]["budget"] == BUDGET
    assert submitted[0]["deposit"] > 0

    job = wait_finished(substrate, network, job_id)
    assert job["state"] == "Completed", f"job {job_id} ended {job['state']}: {job}"

    # The job record (storage, metadata v14 types).
    assert job["owner"] == alice.ss58_address
    assert job["budget"] == 0, "the escrow was paid out and refunded"
    assert job["deposit"] == submitted[0]["deposit"], "the deposit stays held until reaped"
    assert set(job["providers"]) == providers, f"both providers assigned: {job['providers']}"
    assert job["commit_deadline"] is not None and job["reveal_deadline"] is not None
    got = job["spec"]
    assert got["image"]["id"] == "0x" + network.image.removeprefix("sha256:")
    assert got["image"]["registry"] is None and got["image"]["arch"] == "X86_64"
    assert as_bytes(got["command"]) == b"/coinflip"
    assert [as_bytes(a).decode() for a in got["args"]] == coinflip_args(SEED)
    assert got["env"] == []
    assert got["resources"] == spec["resources"]
    assert got["redundancy"] == spec["redundancy"]
    assert got["price_per_second"] == PRICE_PER_SECOND and got["inputs"] == []

    # The accepted result (storage).
    result = substrate.query("JobQueue", "Results", [job_id]).value
    assert result is not None, f"no JobQueue.Results for completed job {job_id}"
    assert as_bytes(result["output"]) == expected_output, "the tally the coin-flip job gives"
    digest = as_bytes(result["result_digest"])
    assert len(digest) == 32 and digest != bytes(32)
    assert len(as_bytes(result["checkpoints_root"])) == 32
    assert as_bytes(result["checkpoints_root"]) != bytes(32), "four checkpoints were committed to"
    payments = {who: amount for who, amount in result["payments"]}
    assert set(payments) == providers, f"both agreeing providers paid: {payments}"
    assert all(a > 0 for a in payments.values()), payments
    assert sum(payments.values()) + result["refunded"] == BUDGET, "escrow = payments + refund"
    assert result["usage"]["wall_ms"] > 0
    # A sub-second job's energy may round down to 0 µWh; it decodes as a number either way.
    assert result["footprint"]["energy_uwh"] >= 0 and result["footprint"]["carbon_ug"] >= 0

    # The same job through the runtime API (metadata v15 types).
    view = job_view(substrate, job_id)
    assert view is not None, f"PovmJobsApi_job({job_id}) returned None"
    assert view["id"] == job_id
    assert view["owner"] == alice.ss58_address
    assert view["state"] == "Completed"
    assert view["budget"] == 0
    assert set(view["providers"]) == providers
    assert view["spec"] == job["spec"]
    r = view["result"]
    assert r is not None
    assert as_bytes(r["output"]) == expected_output
    assert as_bytes(r["result_digest"]) == digest
    assert r["payments"] == result["payments"] and r["refunded"] == result["refunded"]
    assert r["usage"] == result["usage"] and r["footprint"] == result["footprint"]
    assert job_view(substrate, 2**63) is None, "an unknown job is None"
    print(f"job {job_id}: {job}\nresult: {result}\nview: {view}")
