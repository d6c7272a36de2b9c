"""Ordered vocabularies for the pure rules (no Django import): every app's rules.py reads them from here.

bureau/choices.py holds the same values as TextChoices for models and forms; a test keeps both equal.
"""

# 职称, ascending: "一级教师 or above" compares positions.
TITLE_ORDER = ("未定级", "三级教师", "二级教师", "一级教师", "高级教师", "正高级教师")
# 学历, ascending.
EDUCATION_ORDER = ("高中及以下", "中专", "大专", "本科", "硕士研究生", "博士研究生")
# 考核结果 that earn credits (CR-1).
PASSING_GRADES = ("优秀", "合格")
