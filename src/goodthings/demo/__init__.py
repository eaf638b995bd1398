"""The demo: simulated devices that send realistic readings and obey their policy."""
