"""The notifier's rules, free of frameworks: which event mails whom, and when
a delivery may be attempted again."""
