"""The audit trail of personal data: who saw which customer's unmasked data, when, through what."""
