"""Billing: tariffs, prices with VAT, the credit account, purchases, entitlements, the double-entry ledger and
metering of programming time. Publishes AccessPurchased, AccessExpired and CreditIssued."""
