"""tx.keras tests."""
