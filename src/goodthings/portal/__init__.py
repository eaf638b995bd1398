"""The people's portal: sign-in without an account, what is collected, choices, activity."""
