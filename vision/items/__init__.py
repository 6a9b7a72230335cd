"""Items left on or taken from the counter: rules, image comparison, cases."""
