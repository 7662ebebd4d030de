"""Hand-labelled obvious (question id, trait, sign) cases used to report the tool's accuracy.

sign +1: a "yes" is evidence for the trait's presence pole (``max_label`` for bipolar traits);
-1: a "yes" is evidence for the absence pole. Ids are line numbers of ``questions.txt``.
"""

from __future__ import annotations

CHECKS: tuple[tuple[int, str, int], ...] = (
    (1915, "Introversion/Extraversion", +1),  # Do you enjoy going to parties?
    (1827, "Introversion/Extraversion", +1),  # Is the ideal Friday night for you a wild party?
    (117, "Introversion/Extraversion", -1),  # ... need lots of alone time to recuperate?
    (13, "Introversion/Extraversion", +1),  # Do you enjoy small talk?
    (36, "Religiosity", +1),  # Do you pray?
    (1131, "Religiosity", +1),  # Are you spiritual or religious?
    (213, "Religiosity", +1),  # ... religious or spiritual beliefs ... influence on daily life?
    (1832, "Religiosity", -1),  # Does religion do more harm than good in the world?
    (840, "Anxious Attachment", +1),  # Do you often need reassurance that your partner is into you?
    (1396, "Anxious Attachment", +1),  # ... panic when you don't know where your partner is?
    (1640, "Anxious Attachment", +1),  # ... worry that they won't love you as much ...?
    (551, "Avoidant Attachment", +1),  # Do you often feel smothered when a partner shows affection?
    (1381, "Self-acceptance", +1),  # Are you content with who you are?
    (1263, "Thrill-seeking", +1),  # Would you ever skydive?
    (1033, "Drug Friendliness", +1),  # Should we legalize all drugs?
    (1415, "Drug Friendliness", -1),  # Should hard drugs (beyond weed) be illegal?
    (399, "Drug Friendliness", +1),  # Have you ever dabbled in some serious hard drugs?
    (882, "Preference for Monogamy", -1),  # ... open relationship. Would you give it a go?
    (132, "Preference for Monogamy", +1),  # Would you want your partner to be monogamous?
    (466, "Preference for Monogamy", -1),  # ... open relationships ... as successful as monogamous?
    (738, "Thriftiness", +1),  # ... buy store-brand items ... to save money?
    (651, "Thriftiness", -1),  # Have you ever splurged on a first-class plane ticket?
    (1870, "Thriftiness", +1),  # Do you have a budget or financial plan ...?
    (64, "Rationality", -1),  # Do you think astrology is a valid way to make life decisions?
    (962, "Family Focus", +1),  # Do you want kids?
    (391, "Non-interventionism/Interventionism", +1),  # ... increase its military presence ...?
    (187, "Equity/Meritocracy", -1),  # Should rich people pay more taxes than they do?
    (207, "Equity/Meritocracy", -1),  # Should there be a wealth tax on the ultra-rich?
    (33, "Environmentalism/Anthropocentrism", -1),  # Are you worried about the environment?
    (1731, "Environmentalism/Anthropocentrism", -1),  # Is recycling important to you?
    (1660, "Environmentalism/Anthropocentrism", -1),  # ... a carbon tax ...?
    (1704, "Honesty", -1),  # Would you lie to avoid hurting someone's feelings?
    (1889, "Honesty", +1),  # Do you believe that lying is always wrong ...?
    (758, "Fitness Focus", +1),  # Have you ever used your lunch break for a quick gym session?
    (1830, "Fitness Focus", +1),  # ... excited about hitting a new personal best at the gym?
    (248, "Security/Freedom", -1),  # Should cops get more snooping power to fight crime?
    (116, "Libertarianism/Authoritarianism", -1),  # Should all authority be questioned?
    (1168, "Traditionalism about Love", +1),  # Should the guy be the one who asks the girl out?
    (329, "Conscientiousness", -1),  # ... put it off until the stress ... exceeds ...?
    (1565, "Conscientiousness", -1),  # Are deadlines more of a suggestion than a requirement?
    (1225, "Conscientiousness", -1),  # Would your best friends describe you as messy?
    (1613, "Neuroticism", +1),  # Do you often worry about things that are out of your control?
    (1341, "Neuroticism", +1),  # In a relationship, do you worry more than you chill?
    (741, "Stability of Self-image", -1),  # ... radically changed your style or look ...?
    (904, "Stability of Self-image", -1),  # ... drastically changed your style or look ...?
    (1434, "Stability of Self-image", -1),  # ... a different person in different situations?
    (1652, "Stability of Self-image", -1),  # ... taste ... change depending on who you're with?
    (243, "Sex Focus", +1),  # Have you ever had a one-night stand, or ... interests you?
)
