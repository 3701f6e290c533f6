"""Tools for the people who build the bot: the evaluation of answer quality and the benchmark."""
