"""substrate-interface (PyPI), with no custom type definitions, against a real dev node."""
from substrateinterface import Keypair, SubstrateInterface

TRANSFER = 1_234 * 10**12  # 1234 POVM


def free(substrate, address):
    return substrate.query("System", "Account", [address]).value["data"]["free"]


def test_signed_transfer_alice_to_bob_is_finalised(dev_node):
    substrate = SubstrateInterface(url=dev_node.ws)
    alice = Keypair.create_from_uri("//Alice")
    bob = Keypair.create_from_uri("//Bob")
    alice_before = free(substrate, alice.ss58_address)
    bob_before = free(substrate, bob.ss58_address)

    call = substrate.compose_call(
        call_module="Balances",
        call_function="transfer_keep_alive",
        call_params={"dest": bob.ss58_address, "value": TRANSFER},
    )
    extrinsic = substrate.create_signed_extrinsic(call=call, keypair=alice, era={"period": 64})
    receipt = substrate.submit_extrinsic(extrinsic, wait_for_finalization=True)
    assert receipt.is_success, receipt.error_message

    fee = receipt.total_fee_amount
    assert fee > 0
    assert free(substrate, bob.ss58_address) == bob_before + TRANSFER
    # Alice paid the transfer and the fee; as the only validator she also authored the
    # block and got the fee back, so her balance is down by at least the transfer.
    alice_after = free(substrate, alice.ss58_address)
    assert alice_before - TRANSFER - fee <= alice_after <= alice_before - TRANSFER
    events = [(e.value["module_id"], e.value["event_id"]) for e in receipt.triggered_events]
    assert ("Balances", "Transfer") in events


def test_chain_properties_name_the_token(dev_node):
    substrate = SubstrateInterface(url=dev_node.ws)
    props = substrate.rpc_request("system_properties", [])["result"]
    assert props["tokenSymbol"] == "POVM"
    assert props["tokenDecimals"] == 12
    substrate.init_runtime()
    assert substrate.runtime_version >= 100
    pallets = {p.name for p in substrate.get_metadata().pallets}
    assert {"JobQueue", "VmProof", "VrfLottery", "Babe", "Grandpa"} <= pallets


def test_payment_query_info_prices_a_transfer(dev_node):
    substrate = SubstrateInterface(url=dev_node.ws)
    alice = Keypair.create_from_uri("//Alice")
    call = substrate.compose_call(
        call_module="Balances",
        call_function="transfer_keep_alive",
        call_params={"dest": Keypair.create_from_uri("//Charlie").ss58_address, "value": 1},
    )
    info = substrate.get_payment_info(call=call, keypair=alice)
    assert info["partialFee"] > 0
    assert info["weight"]["ref_time"] > 0
