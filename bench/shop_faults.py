"""Fault campaign: 200 concurrent orders for a product with 10 in stock, with billing SIGKILLed once while it
charges them.

Starts the system (bench.system), puts a product with 10 units on sale, and registers workshops: most with
credit for it, a few without (billing refuses them and their units go back on sale). 200 clients order one
unit each at once, each with its own Idempotency-Key, retrying with the same key on anything that is not a
final answer; a client told "out of stock" looks again a few times, as a workshop would, so units that come
back are sold again. Billing is killed with SIGKILL right after the first orders are placed and started again
two seconds later. The stock is sampled all along.

Afterwards it prints: orders placed, paid, cancelled (and why), refused for stock; the lowest stock seen;
billing's captured payments against the shop's paid orders; every workshop's credit against what it paid; and
whether the books balance. Exits 1 unless exactly 10 orders are paid, the stock ends at 0, never went below,
and money and stock agree.

    python -m bench.shop_faults [--orders 200] [--stock 10] [--database-url ...]
"""
import random
import sys
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import requests
from nameko.standalone.rpc import ClusterRpcProxy
from sqlalchemy import select
from sqlalchemy.orm import Session

from bench import goals, system
from deploy.ports import wait_for
from services.billing.models import ShopPayment
from services.shared.database import make_engine
from services.shop.models import Order

SKU = "HV-INSULATION-TESTER"
NET = 134000
FINAL = {201, 400, 404, 409, 422}


def order_until_answered(http, base, token, key):
    while True:
        try:
            answer = http.post(f"{base}/api/v1/shop/orders", timeout=30, json={"lines": [{"sku": SKU, "quantity": 1}]},
                               headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key})
            if answer.status_code in FINAL:
                return answer
        except requests.RequestException:
            pass
        time.sleep(0.2)


def main(argv=None):
    parser = system.parser(__doc__)
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--stock", type=int, default=10)
    parser.add_argument("--workshops", type=int, default=20)
    parser.add_argument("--poor", type=int, default=4, help="workshops without the credit to pay")
    opts = parser.parse_args(argv)
    with system.running(opts.database_url, extra_env={"AOS_SHOP_PAYMENT_TIMEOUT_SECONDS": "60"},
                        replicas=opts.replicas) as running:
        base = running.base
        with ClusterRpcProxy(running.config(), timeout=60) as aos:
            aos.shop.save_product(running.staff_token(), {
                "sku": SKU, "name": "High-voltage insulation tester", "net_cents": NET,
                "description": "Insulation testing up to 1000 V."})
            aos.shop.receive_stock(running.staff_token(), {"sku": SKU, "quantity": opts.stock})
        gross = round(NET * 1.19)
        workshops = [system.workshop(base, 500 if i < opts.poor else gross * opts.stock)[0]
                     for i in range(opts.workshops)]
        lowest, sampling = [opts.stock], threading.Event()

        def sample():
            while not sampling.is_set():
                try:
                    lowest[0] = min(lowest[0], requests.get(f"{base}/api/v1/shop/products/{SKU}", timeout=10)
                                    .json()["stock"])
                except (requests.RequestException, KeyError, ValueError):
                    pass
                time.sleep(0.05)
        threading.Thread(target=sample, daemon=True).start()

        answers, first_placed = Counter(), threading.Event()

        def client(index):
            http, token = requests.Session(), workshops[index % len(workshops)]
            for attempt in range(6):
                answer = order_until_answered(http, base, token, str(uuid.uuid4()))
                answers[answer.status_code] += 1
                if answer.status_code == 201:
                    first_placed.set()
                    return
                time.sleep(random.uniform(0.5, 2.0))  # out of stock: look again later

        at_kill = {}

        def fault():
            first_placed.wait(60)
            victim = running.kill_one("billing")
            at_kill["placed"] = len(placed_orders(running.config()["DATABASE_URLS"]["shop"]))
            time.sleep(2)
            running.start(victim)
        killer = threading.Thread(target=fault, daemon=True)
        killer.start()
        started = time.monotonic()
        with ThreadPoolExecutor(opts.orders) as pool:
            list(pool.map(client, range(opts.orders)))
        killer.join()
        shop_url = running.config()["DATABASE_URLS"]["shop"]
        wait_for(lambda: not placed_orders(shop_url), 120, "every order to be paid or cancelled")
        elapsed = time.monotonic() - started
        sampling.set()
        counts = {"orders waiting for billing when it was killed": at_kill.get("placed"),
                  **count(running, shop_url, workshops, gross, opts, answers, lowest[0])}
    ok = report(opts, elapsed, counts)
    sys.exit(0 if ok else 1)


def placed_orders(shop_url):
    engine = make_engine(shop_url)
    with Session(engine) as s:
        waiting = s.scalars(select(Order.id).where(Order.status == "placed")).all()
    engine.dispose()
    return waiting


def count(running, shop_url, workshops, gross, opts, answers, lowest):
    engine = make_engine(shop_url)
    with Session(engine) as s:
        orders = s.scalars(select(Order)).all()
    engine.dispose()
    engine = make_engine(running.config()["DATABASE_URLS"]["billing"])
    with Session(engine) as s:
        payments = s.scalars(select(ShopPayment)).all()
    engine.dispose()
    paid = [o for o in orders if o.status == "paid"]
    captured = {p.order_id: p for p in payments if p.status == "captured"}
    stock = requests.get(f"{running.base}/api/v1/shop/products/{SKU}", timeout=10).json()["stock"]
    credit_right = 0
    for index, token in enumerate(workshops):
        balance = requests.get(f"{running.base}/api/v1/credit", headers={"Authorization": f"Bearer {token}"},
                               timeout=10).json()["balance_cents"]
        topped = 500 if index < opts.poor else gross * opts.stock
        spent = sum(o.paid_cents for o in paid if o.operator_id == operator_of(running.base, token))
        credit_right += balance == topped - spent
    with ClusterRpcProxy(running.config(), timeout=60) as aos:
        books = aos.billing.check_books(running.staff_token())
    return {
        "order requests answered 201 (placed)": answers[201],
        "order requests answered 409 (out of stock)": answers[409],
        "orders paid": len(paid),
        "orders cancelled: payment refused": sum(o.cancel_reason == "payment_refused" for o in orders),
        "orders cancelled: payment timeout": sum(o.cancel_reason == "payment_timeout" for o in orders),
        "orders still waiting for billing": sum(o.status == "placed" for o in orders),
        "stock left": stock,
        "lowest stock seen": lowest,
        "units paid + stock left": sum(line["quantity"] for o in paid for line in o.lines) + stock,
        "paid orders billing captured, amounts equal": sum(
            1 for o in paid if o.id in captured and captured[o.id].gross_cents == o.paid_cents),
        "captured payments for orders not paid": len(set(captured) - {o.id for o in paid}),
        "workshops whose credit is right": credit_right,
        "workshops": len(workshops),
        "books balanced": books["balanced"],
    }


_operators = {}


def operator_of(base, token):
    if token not in _operators:
        _operators[token] = requests.get(f"{base}/api/v1/me", headers={"Authorization": f"Bearer {token}"},
                                         timeout=10).json()["operator"]["id"]
    return _operators[token]


def report(opts, elapsed, c):
    title = (f"Shop fault campaign: {opts.orders} concurrent orders for {opts.stock} units, {opts.replicas} "
             f"replica(s) of each service, billing SIGKILLed once while charging, {elapsed:.0f} s")
    print("\n" + title)
    for name, value in c.items():
        print(f"  {name:48} {value}")
    ok = (c["orders paid"] == opts.stock and c["stock left"] == 0 and c["lowest stock seen"] >= 0
          and c["units paid + stock left"] == opts.stock and c["orders still waiting for billing"] == 0
          and c["paid orders billing captured, amounts equal"] == opts.stock
          and c["captured payments for orders not paid"] == 0
          and c["workshops whose credit is right"] == c["workshops"] and c["books balanced"] is True)
    print(f"exactly {opts.stock} paid, stock never below zero, money and stock agree: " + ("YES" if ok else "NO"))
    goals.campaign(title, c, ok)
    return ok


if __name__ == "__main__":
    main()
