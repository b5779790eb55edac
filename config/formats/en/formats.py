# Dates on pages and in messages: ISO for English, unambiguous whatever the reader's habit.
SHORT_DATE_FORMAT = "Y-m-d"
SHORT_DATETIME_FORMAT = "Y-m-d H:i"
