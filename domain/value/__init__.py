"""What experience is worth: customers' spend and churn after they rated the company, by NPS category."""
